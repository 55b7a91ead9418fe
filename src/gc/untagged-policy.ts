/**
 * Which untagged manifests GC deletes: those retention's rules let go (`untagged: <age>`),
 * chosen by retention's own function (src/retention/untagged.ts) over GC's inventory, so that
 * `berth retention --dry-run` and GC agree on what goes.
 */
import type { Digest } from '../registry/digest.js';
import { type RetentionRule, retentionRules } from '../retention/rules.js';
import { type ManifestFacts, untaggedToGo } from '../retention/untagged.js';
import type { UntaggedPolicy } from './candidates.js';
import type { RepositoryInventory } from './inventory.js';

/** The policy of `retention.rules`; undefined when no rule has an `untagged` age. */
export function untaggedPolicyOf(rules: readonly RetentionRule[]): UntaggedPolicy | undefined {
  if (!rules.some((rule) => rule.untagged !== undefined)) return undefined;
  const ruleFor = retentionRules(rules);
  const ageOf = (name: RepositoryInventory['name']) => ruleFor(name)?.rule.untagged;
  return {
    applies: (name) => ageOf(name) !== undefined,
    select(repo, roots, now) {
      const age = ageOf(repo.name);
      if (age === undefined) return [];
      const manifests = new Map<Digest, ManifestFacts>();
      for (const [digest, references] of repo.manifests) {
        manifests.set(digest, { references, modTime: repo.manifestTimes.get(digest) ?? now });
      }
      // Tags and tag history entries are both roots here: every digest read counts as tagged.
      const tags = new Map([...roots].map((digest, i) => [`root-${i}`, digest] as const));
      return untaggedToGo({ tags, manifests, referrers: repo.referrers }, { age, now });
    },
  };
}
