/**
 * Whether a revision of a repository is sound: its file decodes, its bytes hash to its digest,
 * and everything it references is there and sound itself (config and layers: the bytes and
 * the repository's link; an index's children: revisions of the same repository). Each
 * revision is judged once per run; an index's verdict follows its children's.
 */
import { orMissing, type StorageDriver } from '../blobstore/driver.js';
import { layerLinkPath, layerLinksPath } from '../blobstore/layout.js';
import { createNullCache } from '../registry/cache.js';
import { algorithmOf, type Digest, digestOf } from '../registry/digest.js';
import { indexChildren, parseManifest } from '../registry/manifest-parse.js';
import { INDEX_TYPES } from '../registry/media-types.js';
import type { RepositoryName } from '../registry/names.js';
import { createRevisionStore, type RevisionStore } from '../registry/revisions.js';
import { type BlobCheck, blobStored } from './blob-check.js';
import { digestOrUndefined, digestsBelow } from './digest-listing.js';

/** Judges the revisions of one repository. */
export interface RevisionJudge {
  /** Why a revision is not sound; undefined when it is, or when it is not there (deleted). */
  problemOf(digest: Digest): Promise<string | undefined>;
  /** Why `digest` cannot be pointed at (by a tag, a referrers entry); undefined when it can. */
  targetProblem(digest: Digest): Promise<string | undefined>;
}

/** What a revision references. */
interface References {
  blobs: Digest[];
  children: Digest[];
}

/** A judge of `name`'s revisions, given what the blob check learned. */
export async function revisionJudge(
  driver: StorageDriver,
  name: RepositoryName,
  blobs: BlobCheck,
): Promise<RevisionJudge> {
  const revisions = createRevisionStore(driver, createNullCache());
  const links = new Set(await digestsBelow(driver, layerLinksPath(name)));
  const verdicts = new Map<Digest, Promise<string | undefined>>();

  async function linked(digest: Digest): Promise<boolean> {
    if (links.has(digest)) return true;
    return (await orMissing(driver.stat(layerLinkPath(name, digest)), undefined)) !== undefined;
  }

  async function blobProblem(digest: Digest): Promise<string | undefined> {
    if (blobs.corrupt.has(digest)) return `references blob ${digest}, whose bytes are corrupt`;
    if (!(await blobStored(driver, blobs, digest))) return `references blob ${digest}, which is missing`;
    if (!(await linked(digest))) return `references blob ${digest}, which is not linked into ${name}`;
    return undefined;
  }

  async function judge(digest: Digest): Promise<string | undefined> {
    let references: References;
    try {
      references = await referencesOf(revisions, name, digest);
    } catch (err) {
      return (err as Error).message;
    }
    for (const blob of references.blobs) {
      const problem = await blobProblem(blob);
      if (problem) return problem;
    }
    for (const child of references.children) {
      const problem = await targetProblem(child);
      if (problem) return `lists manifest ${child}, which ${problem}`;
    }
    return undefined;
  }

  function problemOf(digest: Digest): Promise<string | undefined> {
    let verdict = verdicts.get(digest);
    if (!verdict) {
      verdict = judge(digest);
      verdicts.set(digest, verdict);
    }
    return verdict;
  }

  async function targetProblem(digest: Digest): Promise<string | undefined> {
    if (!(await revisions.exists(name, digest))) return `is not a manifest of ${name}`;
    return (await problemOf(digest)) && 'is a broken manifest';
  }

  return { problemOf, targetProblem };
}

/** Reads a revision and what it references; throws an Error saying what is wrong with it. */
async function referencesOf(
  revisions: RevisionStore,
  name: RepositoryName,
  digest: Digest,
): Promise<References> {
  let stored: Awaited<ReturnType<RevisionStore['read']>>;
  try {
    stored = await revisions.read(name, digest);
  } catch (err) {
    throw new Error(`its file does not decode: ${(err as Error).message}`);
  }
  if (!stored) return { blobs: [], children: [] };
  const actual = digestOf(stored.body, algorithmOf(digest));
  if (actual !== digest) throw new Error(`its bytes hash to ${actual}`);
  if (INDEX_TYPES.has(stored.mediaType)) {
    const listed = indexChildren(stored.body);
    const children = listed.flatMap((child) => digestOrUndefined(child) ?? []);
    if (children.length < listed.length) throw new Error('it lists an invalid digest');
    return { blobs: [], children };
  }
  try {
    const manifest = parseManifest(stored.body, stored.mediaType, {
      maxDescriptors: Number.MAX_SAFE_INTEGER,
    });
    return { blobs: manifest.blobs.map((blob) => blob.digest), children: [] };
  } catch (err) {
    throw new Error(`it does not parse: ${(err as Error).message}`);
  }
}
