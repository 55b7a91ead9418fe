/**
 * The value of `tags.immutable`: a YAML list of `{repository, tags}` rules, or from the
 * environment the same list as JSON (`BERTH_TAGS_IMMUTABLE='[{"repository":"prod/**","tags":"v*"}]'`).
 * `tags` is one pattern or a list of them.
 */
import { checkImmutableRule, type ImmutableTagRule } from '../registry/immutable-tags.js';
import { parseRuleList, patternList, ruleFields } from './rule-lists.js';

const EXAMPLE = '[{"repository":"prod/**","tags":["v*"]}]';

/** Parses and checks the rules; throws saying which rule is wrong and how. */
export function parseImmutableRules(value: unknown): ImmutableTagRule[] {
  return parseRuleList(value, EXAMPLE, ruleOf);
}

function ruleOf(item: unknown): ImmutableTagRule {
  const { repository, tags } = ruleFields(item, ['repository', 'tags']);
  if (typeof repository !== 'string') throw new Error('repository: expected a pattern such as prod/**');
  const rule = { repository: repository.trim(), tags: patternList(tags, 'tags') };
  checkImmutableRule(rule);
  return rule;
}
