/**
 * Immutable tags (`tags.immutable`): rules by repository pattern and tag pattern, in the glob
 * syntax of the policy file. A tag a rule covers is written once; pushing the digest it
 * already points at again is fine, anything that would move or delete it is refused.
 */
import { checkImpersonalPatterns, compilePattern } from '../auth/glob.js';
import { RegistryError } from './errors.js';
import type { RepositoryName, Tag } from './names.js';

/** One rule as configured: every tag matching one of `tags` in a repository matching `repository`. */
export interface ImmutableTagRule {
  repository: string;
  tags: string[];
}

/** The rule that makes a tag immutable, and its place in the list (1-based, for messages). */
export interface MatchedRule {
  number: number;
  rule: ImmutableTagRule;
}

/** Answers which rule, if any, makes a tag immutable. */
export type ImmutableTags = (name: RepositoryName, tag: Tag) => MatchedRule | undefined;

/** No tag is immutable. */
export const NO_IMMUTABLE_TAGS: ImmutableTags = () => undefined;

/** Compiles the rules; they were validated with the configuration (checkImmutableRule). */
export function immutableTags(rules: readonly ImmutableTagRule[]): ImmutableTags {
  if (rules.length === 0) return NO_IMMUTABLE_TAGS;
  const compiled = rules.map((rule, i) => ({
    matched: { number: i + 1, rule },
    repository: compilePattern(rule.repository),
    tags: rule.tags.map(compilePattern),
  }));
  return (name, tag) =>
    compiled.find(
      ({ repository, tags }) => repository.matches(name) && tags.some((pattern) => pattern.matches(tag)),
    )?.matched;
}

/**
 * Throws with what is wrong with a rule's patterns (for the configuration's message). A tag is
 * immutable for everyone or no one: a per-user rule would let a name unlock it.
 */
export function checkImmutableRule(rule: ImmutableTagRule): void {
  checkImpersonalPatterns(rule.repository, rule.tags, 'tags');
}

/** DENIED (403) for a move or delete of an immutable tag, naming the rule. */
export function immutableTagError(
  name: RepositoryName,
  tag: Tag,
  { number, rule }: MatchedRule,
): RegistryError {
  const tags = rule.tags.join(', ');
  return new RegistryError(
    'DENIED',
    `tag ${tag} of ${name} is immutable (tags.immutable rule ${number}: repository ${rule.repository}, tags ${tags}); push a new tag instead`,
    { detail: { name, tag, rule: { number, repository: rule.repository, tags: rule.tags } } },
  );
}
