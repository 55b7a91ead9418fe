/**
 * Checking one repository: every revision is sound (revision-check.ts), and every tag and
 * every referrers entry names a sound revision of the repository.
 *
 * Servers may write meanwhile. Listings are snapshots, so anything not in one is asked of
 * storage before it counts as missing: a blob, link or revision pushed after a listing is
 * found. Anything that vanished while checked was deleted, which is not damage.
 */
import { orMissing, type StorageDriver } from '../blobstore/driver.js';
import { referrerPath, revisionPath, revisionsPath, tagPath, tagsPath } from '../blobstore/layout.js';
import { forEachLimited, LOOKUPS_IN_FLIGHT } from '../registry/limited.js';
import type { RepositoryName, Tag } from '../registry/names.js';
import type { BlobCheck } from './blob-check.js';
import { digestOrUndefined, digestsBelow, referrerEntries } from './digest-listing.js';
import type { Finding } from './findings.js';
import { revisionJudge } from './revision-check.js';

/** What checking a repository found and how much it looked at. */
export interface RepositoryCheck {
  broken: Finding[];
  manifests: number;
  tags: number;
  referrers: number;
}

/** Checks one repository against what the blob check learned. */
export async function checkRepository(
  driver: StorageDriver,
  name: RepositoryName,
  blobs: BlobCheck,
): Promise<RepositoryCheck> {
  const judge = await revisionJudge(driver, name, blobs);
  const broken: Finding[] = [];
  const report = (kind: Finding['kind'], item: string, path: string, problem: string) =>
    broken.push({ kind, item, path, problem });

  const digests = await digestsBelow(driver, revisionsPath(name));
  await forEachLimited(digests, LOOKUPS_IN_FLIGHT, async (digest) => {
    const problem = await judge.problemOf(digest);
    if (problem) report('manifest', `${name}@${digest}`, revisionPath(name, digest), problem);
  });

  const tags = await orMissing(driver.list(tagsPath(name)), [] as string[]);
  await forEachLimited(tags, LOOKUPS_IN_FLIGHT, async (tag) => {
    const path = tagPath(name, tag as Tag);
    const content = await orMissing(driver.getContent(path), undefined);
    if (content === undefined) return;
    const target = digestOrUndefined(content.toString('utf8').trim());
    const problem = target ? await judge.targetProblem(target) : undefined;
    if (!target) report('tag', `${name}:${tag}`, path, 'it does not hold a digest');
    else if (problem) report('tag', `${name}:${tag}`, path, `points at ${target}, which ${problem}`);
  });

  const referrers = await referrerEntries(driver, name);
  await forEachLimited(referrers, LOOKUPS_IN_FLIGHT, async ({ subject, referrer }) => {
    const problem = await judge.targetProblem(referrer);
    if (!problem) return;
    const item = `${name}@${subject} <- ${referrer}`;
    report('referrer', item, referrerPath(name, subject, referrer), `names ${referrer}, which ${problem}`);
  });

  return { broken, manifests: digests.length, tags: tags.length, referrers: referrers.length };
}
