/**
 * The value of `retention.rules`: a YAML list of `{repository, keep, history, untagged}`
 * rules, or from the environment the same list as JSON (`BERTH_RETENTION_RULES`). Durations
 * are written as elsewhere in the configuration (`30d`, `12h`).
 */
import { checkRetentionRule, type KeepConditions, type RetentionRule } from '../retention/rules.js';
import { parseRuleList, patternList, ruleFields } from './rule-lists.js';
import { parseDuration } from './values.js';

const EXAMPLE = '[{"repository":"ci/**","keep":{"newest":10},"history":"90d","untagged":"14d"}]';

/** Parses and checks the rules; throws saying which rule is wrong and how. */
export function parseRetentionRules(value: unknown): RetentionRule[] {
  return parseRuleList(value, EXAMPLE, ruleOf);
}

function ruleOf(item: unknown): RetentionRule {
  const { repository, keep, history, untagged } = ruleFields(item, [
    'repository',
    'keep',
    'history',
    'untagged',
  ]);
  if (typeof repository !== 'string') throw new Error('repository: expected a pattern such as ci/**');
  const rule: RetentionRule = { repository: repository.trim() };
  if (keep !== undefined) rule.keep = keepOf(keep);
  if (history !== undefined) rule.history = durationOf(history, 'history');
  if (untagged !== undefined) rule.untagged = durationOf(untagged, 'untagged');
  checkRetentionRule(rule);
  return rule;
}

function keepOf(value: unknown): KeepConditions {
  const { newest, tags, pulledwithin } = ruleFields(value, ['newest', 'tags', 'pulledwithin']);
  const keep: KeepConditions = {};
  if (newest !== undefined) {
    if (typeof newest !== 'number' || !Number.isInteger(newest) || newest < 0)
      throw new Error(`keep.newest: expected a whole number, got ${JSON.stringify(newest)}`);
    keep.newest = newest;
  }
  if (tags !== undefined) keep.tags = patternList(tags, 'keep.tags');
  if (pulledwithin !== undefined) keep.pulledwithin = durationOf(pulledwithin, 'keep.pulledwithin');
  // An empty keep would keep nothing: every tag would go, which no one writes on purpose.
  if (Object.keys(keep).length === 0)
    throw new Error('keep: expected newest, tags or pulledwithin (leave keep out to keep every tag)');
  return keep;
}

function durationOf(value: unknown, field: string): number {
  try {
    return parseDuration(value);
  } catch (err) {
    throw new Error(`${field}: ${(err as Error).message}`);
  }
}
