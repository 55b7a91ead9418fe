/**
 * Retention rules (`retention.rules`): by repository pattern, which tags to keep, how long tag
 * history lasts and how long untagged manifests stay. The first rule whose repository pattern
 * matches applies; a repository no rule matches is left alone. Patterns use the policy file's
 * glob syntax (src/auth/glob.ts).
 */
import { checkImpersonalPatterns, compilePattern } from '../auth/glob.js';
import type { RepositoryName } from '../registry/names.js';

/** Which tags a rule keeps: a tag is kept when any condition holds. */
export interface KeepConditions {
  /** The N tags moved most recently. */
  newest?: number;
  /** Tags matching one of these patterns. */
  tags?: string[];
  /** Tags pulled within this long (ms). */
  pulledwithin?: number;
}

/** One rule as configured; durations in ms. */
export interface RetentionRule {
  repository: string;
  /** Without it every tag is kept. */
  keep?: KeepConditions;
  /** History entries older than this are deleted (never the newest of an existing tag). */
  history?: number;
  /** Untagged manifests older than this go in the next GC run. */
  untagged?: number;
}

/** A rule ready to match, with its place in the list (1-based, for reports). */
export interface CompiledRule {
  number: number;
  rule: RetentionRule;
  /** Whether a tag matches one of `keep.tags`. */
  keepsTag(tag: string): boolean;
}

/** The rule that applies to a repository, if any. */
export type RuleFor = (name: RepositoryName) => CompiledRule | undefined;

/** Compiles the rules; they were checked with the configuration (checkRetentionRule). */
export function retentionRules(rules: readonly RetentionRule[]): RuleFor {
  const compiled = rules.map((rule, i) => {
    const repository = compilePattern(rule.repository);
    const tags = (rule.keep?.tags ?? []).map(compilePattern);
    return {
      repository,
      matched: { number: i + 1, rule, keepsTag: (tag: string) => tags.some((p) => p.matches(tag)) },
    };
  });
  return (name) => compiled.find(({ repository }) => repository.matches(name))?.matched;
}

/**
 * Throws with what is wrong with a rule's patterns (for the configuration's message).
 * Retention runs for no one in particular: there is no user to stand in for `${user}`.
 */
export function checkRetentionRule(rule: RetentionRule): void {
  checkImpersonalPatterns(rule.repository, rule.keep?.tags ?? [], 'keep.tags');
}
