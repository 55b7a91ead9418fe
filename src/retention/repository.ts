/**
 * Retention applied to one repository under its rule: tags deleted, history expired, and the
 * untagged manifests that go in the next GC run listed (GC deletes those, with its tombstones).
 */
import type { StorageDriver } from '../blobstore/driver.js';
import { revisionsPath, tagHistoryEntryPath } from '../blobstore/layout.js';
import type { Inventory } from '../gc/inventory.js';
import type { Digest } from '../registry/digest.js';
import type { ImmutableTags } from '../registry/immutable-tags.js';
import { forEachLimited, LOOKUPS_IN_FLIGHT } from '../registry/limited.js';
import type { RepositoryName, Tag } from '../registry/names.js';
import { readPullTimes } from '../registry/pull-records.js';
import { entryTime, readEntry, type TagHistory } from '../registry/tag-history.js';
import { expiredEntries, formatDuration, tagsToDelete } from './decide.js';
import type { CompiledRule } from './rules.js';
import { deleteUnmovedTag } from './tag-delete.js';
import { readRepositoryTags } from './tag-state.js';
import { type ManifestFacts, untaggedToGo } from './untagged.js';

/** One line of a retention report. */
export interface RetentionItem {
  kind: 'tag' | 'history' | 'manifest';
  repository: RepositoryName;
  /** The tag, `tag (N entries)`, or the manifest digest. */
  item: string;
  reason: string;
  /** For `history`: how many entries. */
  count?: number;
}

/** What a repository's run needs besides the repository and its rule. */
export interface RepositoryRunContext {
  driver: StorageDriver;
  history: TagHistory;
  immutable: ImmutableTags;
  now: number;
  dryRun: boolean;
  /** GC's view of the store, read once per run when a rule has `untagged`. */
  inventory: () => Promise<Inventory>;
  /** Told of a tag left alone because it moved while the run decided. */
  onRaced?: (name: RepositoryName, tag: Tag) => void;
}

/** Applies `compiled` to repository `name`; resolves with what it did (or would do). */
export async function retainRepository(
  name: RepositoryName,
  compiled: CompiledRule,
  context: RepositoryRunContext,
): Promise<RetentionItem[]> {
  const { driver, now, dryRun } = context;
  const { rule } = compiled;
  const { tags, histories } = await readRepositoryTags(driver, name);
  const pulls = rule.keep?.pulledwithin === undefined ? new Map() : await readPullTimes(driver, name);
  const facts = tags.map((state) => ({
    tag: state.tag,
    movedAt: state.movedAt,
    pulledAt: pulls.get(state.tag),
    immutable: context.immutable(name, state.tag) !== undefined,
  }));
  const items: RetentionItem[] = [];
  const gone = new Set<Tag>();
  const byTag = new Map(tags.map((state) => [state.tag, state]));
  for (const { tag, reason } of tagsToDelete(facts, compiled, now)) {
    const state = byTag.get(tag);
    if (!state) continue;
    const outcome = dryRun
      ? 'deleted'
      : await deleteUnmovedTag(driver, context.history, name, state, histories.get(tag)?.[0]);
    if (outcome !== 'deleted') {
      context.onRaced?.(name, tag);
      continue;
    }
    gone.add(tag);
    items.push({ kind: 'tag', repository: name, item: tag, reason });
  }
  const kept = await expireHistory(
    name,
    compiled,
    context,
    histories,
    (tag) => byTag.has(tag) && !gone.has(tag),
  );
  items.push(...kept.items);
  if (rule.untagged !== undefined) {
    const tagged = new Map(tags.map((state) => [state.tag as string, state.digest]));
    const digests = await historyDigests(driver, name, kept.remaining);
    items.push(...(await untaggedItems(name, compiled, context, tagged, digests)));
  }
  return items;
}

/** Deletes expired history entries; returns their report lines and the entries that stay. */
async function expireHistory(
  name: RepositoryName,
  { rule }: CompiledRule,
  { driver, now, dryRun }: RepositoryRunContext,
  histories: Map<Tag, string[]>,
  exists: (tag: Tag) => boolean,
): Promise<{ items: RetentionItem[]; remaining: Map<Tag, string[]> }> {
  if (rule.history === undefined) return { items: [], remaining: histories };
  const cutoff = now - rule.history;
  const items: RetentionItem[] = [];
  const remaining = new Map<Tag, string[]>();
  const paths: string[] = [];
  for (const [tag, ids] of histories) {
    const expired = new Set(expiredEntries(ids, entryTime, exists(tag), cutoff));
    remaining.set(
      tag,
      ids.filter((id) => !expired.has(id)),
    );
    if (expired.size === 0) continue;
    paths.push(...[...expired].map((id) => tagHistoryEntryPath(name, tag, id)));
    const entries = expired.size === 1 ? '1 entry' : `${expired.size} entries`;
    items.push({
      kind: 'history',
      repository: name,
      item: `${tag} (${entries})`,
      count: expired.size,
      reason: `older than ${formatDuration(rule.history)}`,
    });
  }
  if (!dryRun && paths.length > 0) await driver.deleteMany(paths);
  return { items, remaining };
}

/** The digests the history entries that stay name: those manifests stay for a rollback. */
async function historyDigests(
  driver: StorageDriver,
  name: RepositoryName,
  histories: Map<Tag, string[]>,
): Promise<Digest[]> {
  const entries = [...histories].flatMap(([tag, ids]) => ids.map((id) => ({ tag, id })));
  const digests: Digest[] = [];
  await forEachLimited(entries, LOOKUPS_IN_FLIGHT, async ({ tag, id }) => {
    const entry = await readEntry(driver, name, tag, id);
    if (entry) digests.push(entry.digest);
  });
  return digests;
}

/** The untagged manifests that go in the next GC run, as report lines. */
async function untaggedItems(
  name: RepositoryName,
  { rule }: CompiledRule,
  context: RepositoryRunContext,
  tags: Map<string, Digest>,
  history: Digest[],
): Promise<RetentionItem[]> {
  const age = rule.untagged ?? Number.POSITIVE_INFINITY;
  const repo = (await context.inventory()).repositories.find((candidate) => candidate.name === name);
  if (!repo) return [];
  const modTimes = new Map<string, number>();
  const root = revisionsPath(name);
  for await (const { path, modTime } of context.driver.scan(root))
    modTimes.set(path.slice(root.length + 1).replace('/', ':'), modTime.getTime());
  const manifests = new Map<Digest, ManifestFacts>();
  for (const [digest, references] of repo.manifests)
    manifests.set(digest, { references, modTime: modTimes.get(digest) ?? context.now });
  const doomed = untaggedToGo(
    { tags, manifests, referrers: repo.referrers, history },
    { age, now: context.now },
  );
  const reason = `untagged, older than ${formatDuration(age)}: goes in the next GC run`;
  return doomed.map((digest) => ({ kind: 'manifest', repository: name, item: digest, reason }));
}
