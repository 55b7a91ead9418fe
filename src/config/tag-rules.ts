/**
 * The value of `tags.immutable`: a YAML list of `{repository, tags}` rules, or from the
 * environment the same list as JSON (`BERTH_TAGS_IMMUTABLE='[{"repository":"prod/**","tags":"v*"}]'`).
 * `tags` is one pattern or a list of them.
 */
import { checkImmutableRule, type ImmutableTagRule } from '../registry/immutable-tags.js';

const EXAMPLE = '[{"repository":"prod/**","tags":["v*"]}]';

/** Parses and checks the rules; throws saying which rule is wrong and how. */
export function parseImmutableRules(value: unknown): ImmutableTagRule[] {
  const list = typeof value === 'string' ? parseJson(value) : value;
  if (!Array.isArray(list)) throw new Error(`expected a list of {repository, tags} rules such as ${EXAMPLE}`);
  return list.map((item, i) => {
    try {
      return ruleOf(item);
    } catch (err) {
      throw new Error(`rule ${i + 1}: ${(err as Error).message}`);
    }
  });
}

function ruleOf(item: unknown): ImmutableTagRule {
  if (typeof item !== 'object' || item === null || Array.isArray(item))
    throw new Error(`expected a mapping with repository and tags, got ${JSON.stringify(item)}`);
  const { repository, tags, ...rest } = item as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) throw new Error(`unknown key ${unknown} (a rule has repository and tags)`);
  if (typeof repository !== 'string') throw new Error('repository: expected a pattern such as prod/**');
  const patterns = typeof tags === 'string' ? [tags] : tags;
  if (!Array.isArray(patterns) || patterns.length === 0 || !patterns.every((tag) => typeof tag === 'string'))
    throw new Error('tags: expected a pattern such as v* or a list of them');
  const rule = { repository: repository.trim(), tags: patterns.map((tag) => tag.trim()) };
  checkImmutableRule(rule);
  return rule;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`expected JSON such as ${EXAMPLE}, got ${JSON.stringify(text)}`);
  }
}
