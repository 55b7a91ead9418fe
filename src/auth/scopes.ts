/**
 * Scopes and access entries of the Docker registry token protocol:
 * `repository:team-a/app:pull,push` asks for (and an `access` claim grants) actions on one
 * resource; `registry:catalog:*` is the catalog.
 */

/** The repository actions Berth knows. */
export type Action = 'pull' | 'push' | 'delete';

/** All repository actions, in the order they are written. */
export const ACTIONS: readonly Action[] = ['pull', 'push', 'delete'];

/** One entry of a token's `access` claim, or one requested scope. */
export interface AccessEntry {
  type: string;
  name: string;
  actions: string[];
}

/** The catalog resource. */
export const CATALOG: AccessEntry = { type: 'registry', name: 'catalog', actions: ['*'] };

/**
 * Validates a list of actions. `*` means all of them. In strict mode (policy files) an unknown
 * action is an error; otherwise (client requests) it is dropped, as distribution does.
 */
export function parseActions(values: unknown[], strict: boolean): Action[] {
  const found = new Set<Action>();
  for (const value of values) {
    if (value === '*') return [...ACTIONS];
    if (typeof value === 'string' && (ACTIONS as string[]).includes(value)) {
      found.add(value as Action);
    } else if (strict) {
      throw new Error(`unknown action ${JSON.stringify(value)} (expected pull, push, delete or *)`);
    }
  }
  return ACTIONS.filter((action) => found.has(action));
}

/**
 * Parses one scope such as `repository:a/b:pull,push` (also `repository(plugin):a/b:pull`).
 * Returns undefined for a malformed scope, which a token request ignores.
 */
export function parseScope(scope: string): AccessEntry | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  const type = scope.slice(0, first).replace(/\(.*\)$/, '');
  const name = scope.slice(first + 1, last);
  const actions = scope
    .slice(last + 1)
    .split(',')
    .filter((action) => action !== '');
  if (name === '' || actions.length === 0) return undefined;
  return { type, name, actions };
}

/** The scope string of a challenge: `repository:a/b:pull,push`. */
export function formatScope(entry: AccessEntry): string {
  return `${entry.type}:${entry.name}:${entry.actions.join(',')}`;
}
