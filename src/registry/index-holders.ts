/**
 * Which tagged indexes still list a manifest. Deleting a manifest that an index reachable
 * from a tag lists (directly or through nested indexes) would leave that index broken for
 * every client pulling the tag, so the delete is refused; an untagged index holds nothing.
 *
 * Worked out when asked, from the tags and the stored indexes, rather than kept as a
 * reverse index: deletes are rare, and this way indexes pushed before the rule existed count
 * too. A push racing the delete can still slip past, as with any check-then-act on storage.
 */
import type { Digest } from './digest.js';
import { forEachLimited, LOOKUPS_IN_FLIGHT } from './limited.js';
import type { Tag } from './names.js';

/** The manifests an index lists; empty for anything that is not an index. */
export type ChildrenOf = (digest: Digest) => Promise<Digest[]>;

/** The indexes that list a manifest and the tags that reach it through them. */
export interface Holders {
  /** Indexes, reachable from a tag, that list the manifest itself. */
  indexes: Digest[];
  /** Tags from which those indexes are reached. */
  tags: Tag[];
}

/**
 * The indexes reachable from `tagged` (every tag with the digest it points at) that hold
 * `target`, or undefined when none does.
 */
export async function holdersOf(
  target: Digest,
  tagged: Array<[Tag, Digest]>,
  childrenOf: ChildrenOf,
): Promise<Holders | undefined> {
  const parents = await parentsReachableFrom(
    tagged.map(([, digest]) => digest),
    childrenOf,
  );
  const direct = parents.get(target);
  if (!direct) return undefined;
  const ancestors = ancestorsOf(target, parents);
  return {
    indexes: [...direct].sort(),
    tags: tagged.filter(([, digest]) => ancestors.has(digest)).map(([tag]) => tag),
  };
}

/** For every manifest reachable from `roots` through indexes, the indexes that list it. */
async function parentsReachableFrom(
  roots: Digest[],
  childrenOf: ChildrenOf,
): Promise<Map<Digest, Set<Digest>>> {
  const parents = new Map<Digest, Set<Digest>>();
  const seen = new Set<Digest>(roots);
  let level = [...seen];
  while (level.length > 0) {
    const next: Digest[] = [];
    await forEachLimited(level, LOOKUPS_IN_FLIGHT, async (parent) => {
      for (const child of await childrenOf(parent)) {
        const listed = parents.get(child) ?? new Set<Digest>();
        listed.add(parent);
        parents.set(child, listed);
        if (!seen.has(child)) {
          seen.add(child);
          next.push(child);
        }
      }
    });
    level = next;
  }
  return parents;
}

/** Every index above `target` in the graph, however many levels up. */
function ancestorsOf(target: Digest, parents: Map<Digest, Set<Digest>>): Set<Digest> {
  const ancestors = new Set<Digest>();
  const pending = [target];
  for (let digest = pending.pop(); digest !== undefined; digest = pending.pop()) {
    for (const parent of parents.get(digest) ?? []) {
      if (ancestors.has(parent)) continue;
      ancestors.add(parent);
      pending.push(parent);
    }
  }
  return ancestors;
}
