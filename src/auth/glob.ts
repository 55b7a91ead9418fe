/**
 * Repository patterns of the policy file and robot scopes: `*` matches within one path
 * component, `**` across components, `?` one character of a component, and `${user}` stands
 * for the caller's user name. Everything else matches itself.
 */

/** A compiled pattern. */
export interface RepositoryPattern {
  source: string;
  /** True when the pattern contains `${user}` and so only matches for a named user. */
  perUser: boolean;
  /** Whether `repository` matches, with `${user}` standing for `user`. */
  matches(repository: string, user?: string): boolean;
}

// biome-ignore lint/suspicious/noTemplateCurlyInString: `${user}` is literal pattern syntax here.
const USER = '${user}';

/** Compiles `source`; throws with a message that says what is wrong. */
export function compilePattern(source: string): RepositoryPattern {
  if (source.trim() === '' || /\s/.test(source)) throw new Error('expected a pattern without spaces');
  if (source.startsWith('/') || source.endsWith('/') || source.includes('//'))
    throw new Error('a pattern may not start or end with "/" or contain "//"');
  if (source.includes('$') && source.replaceAll(USER, '').includes('$'))
    throw new Error(`"$" is only allowed in ${USER}`);
  const perUser = source.includes(USER);
  const fixed = perUser ? undefined : toRegExp(source);
  const byUser = new Map<string, RegExp>();
  return {
    source,
    perUser,
    matches(repository, user) {
      if (fixed) return fixed.test(repository);
      if (user === undefined) return false;
      let expression = byUser.get(user);
      if (!expression) {
        expression = toRegExp(source.replaceAll(USER, user));
        if (byUser.size > 1000) byUser.clear();
        byUser.set(user, expression);
      }
      return expression.test(repository);
    },
  };
}

function toRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i] as string;
    if (char === '*' && glob[i + 1] === '*') {
      // `a/**` is everything inside `a`, not `a` itself, as in .gitignore.
      out += '.+';
      i++;
    } else if (char === '*') {
      out += '[^/]*';
    } else if (char === '?') {
      out += '[^/]';
    } else {
      out += char.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${out}$`);
}

/**
 * Checks the patterns of a rule that applies to no one in particular (immutable tags,
 * retention): each compiles, none uses `${user}` (there is no user to stand in for it), and
 * tag patterns hold no `/`. Throws naming the field (`tagsField`) and the pattern.
 */
export function checkImpersonalPatterns(
  repository: string,
  tags: readonly string[],
  tagsField: string,
): void {
  const patterns: Array<[string, string]> = [
    ['repository', repository],
    ...tags.map((tag): [string, string] => [tagsField, tag]),
  ];
  for (const [field, source] of patterns) {
    let pattern: RepositoryPattern;
    try {
      pattern = compilePattern(source);
    } catch (err) {
      throw new Error(`${field} ${JSON.stringify(source)}: ${(err as Error).message}`);
    }
    if (pattern.perUser) throw new Error(`${field} ${JSON.stringify(source)}: \${user} is not allowed here`);
    if (field === tagsField && source.includes('/'))
      throw new Error(`${tagsField} ${JSON.stringify(source)}: tags have no "/"`);
  }
}
