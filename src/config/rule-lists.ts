/**
 * List-valued configuration keys (`tags.immutable`, `retention.rules`): a YAML list of rule
 * mappings, or from the environment the same list as JSON. A bad rule is refused with its
 * 1-based number, so the message points at it.
 */

/** Parses a list of rules with `ruleOf`; `example` is the JSON a message shows. */
export function parseRuleList<T>(value: unknown, example: string, ruleOf: (item: unknown) => T): T[] {
  const list = typeof value === 'string' ? parseJson(value, example) : value;
  if (!Array.isArray(list)) throw new Error(`expected a list of rules such as ${example}`);
  return list.map((item, i) => {
    try {
      return ruleOf(item);
    } catch (err) {
      throw new Error(`rule ${i + 1}: ${(err as Error).message}`);
    }
  });
}

/** The keys of a rule mapping; throws for anything else, or for a key outside `known`. */
export function ruleFields(item: unknown, known: readonly string[]): Record<string, unknown> {
  const what = known.join(', ');
  if (typeof item !== 'object' || item === null || Array.isArray(item))
    throw new Error(`expected a mapping with ${what}, got ${JSON.stringify(item)}`);
  const fields = item as Record<string, unknown>;
  const unknown = Object.keys(fields).find((key) => !known.includes(key));
  if (unknown !== undefined) throw new Error(`unknown key ${unknown} (a rule has ${what})`);
  return fields;
}

/** One pattern or a non-empty list of them, trimmed; throws saying what `field` expects. */
export function patternList(value: unknown, field: string): string[] {
  const patterns = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(patterns) || patterns.length === 0 || !patterns.every((p) => typeof p === 'string'))
    throw new Error(`${field}: expected a pattern such as v* or a list of them`);
  return patterns.map((pattern: string) => pattern.trim());
}

function parseJson(text: string, example: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`expected JSON such as ${example}, got ${JSON.stringify(text)}`);
  }
}
