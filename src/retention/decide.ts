/**
 * Retention's decisions, pure: which tags a rule deletes and which history entries expire.
 * The run (run.ts) reads the facts from storage and applies the answers.
 */
import type { Tag } from '../registry/names.js';
import type { CompiledRule } from './rules.js';

/** What a rule looks at for one tag. */
export interface TagFacts {
  tag: Tag;
  /** When the tag last moved (ms): its newest history entry, or its object's write time. */
  movedAt: number;
  /** When it was last pulled (ms), if a pull was recorded. */
  pulledAt?: number;
  /** True when `tags.immutable` covers it: retention never deletes those. */
  immutable: boolean;
}

/** A tag the rule deletes, and why. */
export interface DoomedTag {
  tag: Tag;
  reason: string;
}

/** The tags `compiled` deletes at `now` (ms), in tag order; none when the rule has no `keep`. */
export function tagsToDelete(tags: readonly TagFacts[], compiled: CompiledRule, now: number): DoomedTag[] {
  const { keep } = compiled.rule;
  if (!keep) return [];
  const newest = new Set(
    [...tags]
      .sort((a, b) => b.movedAt - a.movedAt || byTag(a, b))
      .slice(0, keep.newest ?? 0)
      .map((facts) => facts.tag),
  );
  const pulledSince = keep.pulledwithin === undefined ? undefined : now - keep.pulledwithin;
  const kept = (facts: TagFacts) =>
    facts.immutable ||
    newest.has(facts.tag) ||
    compiled.keepsTag(facts.tag) ||
    (pulledSince !== undefined && facts.pulledAt !== undefined && facts.pulledAt >= pulledSince);
  const reason = reasonOf(compiled);
  return tags
    .filter((facts) => !kept(facts))
    .map((facts) => ({ tag: facts.tag, reason }))
    .sort(byTag);
}

/** Why a rule deletes a tag: every keep condition it failed. */
function reasonOf({ number, rule }: CompiledRule): string {
  const { keep = {} } = rule;
  const failed: string[] = [];
  if (keep.newest !== undefined) failed.push(`not among the ${keep.newest} newest`);
  if (keep.tags) failed.push(`matches none of ${keep.tags.join(' ')}`);
  if (keep.pulledwithin !== undefined) failed.push(`not pulled within ${formatDuration(keep.pulledwithin)}`);
  return `rule ${number} (${rule.repository}): ${failed.join(', ')}`;
}

/**
 * The ids of a tag's history entries (newest first) that are older than `cutoff` (ms), except
 * the newest entry of a tag that still exists: it says where the tag points and who put it there.
 */
export function expiredEntries(
  ids: readonly string[],
  timeOf: (id: string) => number | undefined,
  tagExists: boolean,
  cutoff: number,
): string[] {
  return ids.filter((id, i) => {
    if (tagExists && i === 0) return false;
    const time = timeOf(id);
    return time !== undefined && time < cutoff;
  });
}

/** A duration as the configuration writes it, in its largest whole unit (`30d`, `90m`, `1500ms`). */
export function formatDuration(ms: number): string {
  for (const [unit, size] of UNITS) if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

const UNITS: ReadonlyArray<[string, number]> = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
];

function byTag(a: { tag: string }, b: { tag: string }): number {
  if (a.tag === b.tag) return 0;
  return a.tag < b.tag ? -1 : 1;
}
