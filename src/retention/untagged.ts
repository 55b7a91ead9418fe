/**
 * Which untagged manifests of a repository a retention rule lets go. Pure: it decides from
 * what GC's inventory already holds, and deletes nothing; GC's marking calls it and deletes
 * what it returns with its tombstone protocol (docs/gc.md), so a push that references one of
 * them meanwhile revives it.
 *
 * A manifest is kept when it is a root (a tag or a kept history entry points at it, it was
 * written within the rule's `untagged` age, or GC could not read it) or when a kept manifest
 * reaches it: an index keeps its children, and a subject keeps its referrers (signatures,
 * SBOMs, and their own signatures), recursively. A referrer does not keep its subject, so a
 * signature whose image goes goes with it once it is old enough.
 */
import type { Digest } from '../registry/digest.js';
import type { References } from '../registry/revisions.js';

/** What retention needs to know about one manifest of the repository. */
export interface ManifestFacts {
  /** What the revision references; undefined when it could not be read. */
  references: References | undefined;
  /** When the revision was last written (ms since the epoch). */
  modTime: number;
}

/** One repository's manifests as GC's inventory sees them. */
export interface RepositoryManifests {
  /** Tag -> the digest it points at. */
  tags: ReadonlyMap<string, Digest>;
  /** Every manifest of the repository. */
  manifests: ReadonlyMap<Digest, ManifestFacts>;
  /** Referrers entries: subject digest -> referrer digests. */
  referrers: ReadonlyMap<Digest, readonly Digest[]>;
  /**
   * Digests named by the tag history entries that stay (so that a rollback still finds its
   * manifest); none when omitted.
   */
  history?: Iterable<Digest>;
}

/** The rule's `untagged` age and the time to measure it from, both in ms. */
export interface UntaggedPolicy {
  age: number;
  now: number;
}

/** The untagged manifests that may go, in bytewise order of their digests. */
export function untaggedToGo(repository: RepositoryManifests, { age, now }: UntaggedPolicy): Digest[] {
  const { manifests } = repository;
  // A manifest that cannot be read may be an index of anything here: keep the repository whole.
  for (const facts of manifests.values()) if (!facts.references) return [];
  const kept = reachable(repository, roots(repository, now - age));
  return [...manifests.keys()].filter((digest) => !kept.has(digest)).sort();
}

function roots({ tags, manifests, history = [] }: RepositoryManifests, cutoff: number): Digest[] {
  const young = [...manifests].filter(([, facts]) => facts.modTime >= cutoff).map(([digest]) => digest);
  return [...tags.values(), ...history, ...young];
}

/** Everything the roots keep: themselves, index children and referrers, to any depth. */
function reachable({ manifests, referrers }: RepositoryManifests, roots: readonly Digest[]): Set<Digest> {
  const kept = new Set<Digest>();
  const pending = [...roots];
  for (let digest = pending.pop(); digest !== undefined; digest = pending.pop()) {
    if (kept.has(digest)) continue;
    kept.add(digest);
    pending.push(...(manifests.get(digest)?.references?.manifests ?? []), ...(referrers.get(digest) ?? []));
  }
  return kept;
}
