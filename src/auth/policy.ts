/**
 * The policy file: users, teams, robot accounts and repository rules, parsed and validated
 * into a Policy. Every problem names the entry and key at fault. What a caller may do is
 * decided by `access.ts`; this module only says what the file holds.
 *
 * ```yaml
 * users:
 *   alice: { password: "$2b$12$...", admin: true }
 * teams:
 *   dev: [alice]
 * robots:
 *   ci: { secret: "sha256:...", scopes: ["repository:ci/*:pull,push"], expires: "2027-03-01T00:00:00Z" }
 * repositories:
 *   - match: "public/**"
 *     anonymous: [pull]
 *     users: { alice: [pull, push, delete] }
 * ```
 */
import { parse as parseYaml } from 'yaml';
import { compilePattern, type RepositoryPattern } from './glob.js';
import { PolicyError } from './policy-error.js';
import { type Action, parseActions } from './scopes.js';
import { isBcryptHash, isRobotSecretHash } from './secrets.js';

/** A user who logs in with a password. */
export interface PolicyUser {
  name: string;
  /** bcrypt hash. */
  password: string;
  /** Admins may do everything, the catalog included. */
  admin: boolean;
}

/** What a robot account may do on the repositories matching `pattern`. */
export interface RobotGrant {
  pattern: RepositoryPattern;
  actions: Action[];
}

/** A robot account: a long random secret, scoped to repository patterns, maybe expiring. */
export interface PolicyRobot {
  name: string;
  /** `sha256:<hex>` of the secret. */
  secret: string;
  grants: RobotGrant[];
  /** Milliseconds since the epoch, or undefined for never. */
  expires: number | undefined;
}

/** One `repositories` entry; the first whose pattern matches a repository decides. */
export interface RepositoryRule {
  pattern: RepositoryPattern;
  anonymous: Action[];
  /** Any user who logged in (not robots: they only get what their scopes say). */
  authenticated: Action[];
  /** The user named by `${user}` in the pattern. */
  owner: Action[];
  users: ReadonlyMap<string, Action[]>;
  teams: ReadonlyMap<string, Action[]>;
}

/** A validated policy. */
export interface Policy {
  users: ReadonlyMap<string, PolicyUser>;
  /** Team name to its members. */
  teams: ReadonlyMap<string, string[]>;
  robots: ReadonlyMap<string, PolicyRobot>;
  repositories: RepositoryRule[];
}

export { PolicyError };

/** User, team and robot names: like a repository path component. */
export const ACCOUNT_NAME = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

/** The prefix that marks a robot's login name: `robot$ci`. */
export const ROBOT_PREFIX = 'robot$';

/** An empty policy: nobody may do anything. */
export const EMPTY_POLICY: Policy = {
  users: new Map(),
  teams: new Map(),
  robots: new Map(),
  repositories: [],
};

/** Parses and validates the YAML text of a policy file; `source` names it in errors. */
export function parsePolicy(text: string, source: string): Policy {
  let document: unknown;
  try {
    document = parseYaml(text) ?? {};
  } catch (err) {
    throw new PolicyError(`${source}: not valid YAML: ${(err as Error).message}`);
  }
  const at = (path: string) => `${source}: ${path}`;
  const root = mapping(document, source);
  onlyKeys(root, ['users', 'teams', 'robots', 'repositories'], source);
  const users = parseUsers(root.users, at);
  const teams = parseTeams(root.teams, at);
  const robots = parseRobots(root.robots, at);
  const repositories = parseRules(root.repositories, at);
  requireDefinedTeams(repositories, teams, at);
  return { users, teams, robots, repositories };
}

type Locate = (path: string) => string;

function parseUsers(node: unknown, at: Locate): Map<string, PolicyUser> {
  const users = new Map<string, PolicyUser>();
  for (const [name, value] of Object.entries(mapping(node ?? {}, at('users')))) {
    const where = `users.${name}`;
    accountName(name, at(where));
    const entry = mapping(value, at(where));
    onlyKeys(entry, ['password', 'admin'], at(where));
    if (typeof entry.password !== 'string' || !isBcryptHash(entry.password))
      throw new PolicyError(
        `${at(`${where}.password`)}: expected a bcrypt hash ($2b$...); set it with berth user passwd`,
      );
    if (entry.admin !== undefined && typeof entry.admin !== 'boolean')
      throw new PolicyError(`${at(`${where}.admin`)}: expected true or false`);
    users.set(name, { name, password: entry.password, admin: entry.admin === true });
  }
  return users;
}

function parseTeams(node: unknown, at: Locate): Map<string, string[]> {
  const teams = new Map<string, string[]>();
  for (const [name, value] of Object.entries(mapping(node ?? {}, at('teams')))) {
    accountName(name, at(`teams.${name}`));
    if (!Array.isArray(value) || !value.every((member) => typeof member === 'string'))
      throw new PolicyError(`${at(`teams.${name}`)}: expected a list of user names`);
    teams.set(name, value as string[]);
  }
  return teams;
}

function parseRobots(node: unknown, at: Locate): Map<string, PolicyRobot> {
  const robots = new Map<string, PolicyRobot>();
  for (const [name, value] of Object.entries(mapping(node ?? {}, at('robots')))) {
    const where = `robots.${name}`;
    accountName(name, at(where));
    const entry = mapping(value, at(where));
    onlyKeys(entry, ['secret', 'scopes', 'expires', 'description'], at(where));
    if (typeof entry.secret !== 'string' || !isRobotSecretHash(entry.secret))
      throw new PolicyError(
        `${at(`${where}.secret`)}: expected sha256:<64 hex digits>, as berth robot add writes`,
      );
    if (!Array.isArray(entry.scopes) || entry.scopes.length === 0)
      throw new PolicyError(
        `${at(`${where}.scopes`)}: expected a list such as ["repository:ci/*:pull,push"]`,
      );
    const grants = entry.scopes.map((scope, i) => parseRobotScope(scope, at(`${where}.scopes[${i}]`)));
    robots.set(name, {
      name,
      secret: entry.secret,
      grants,
      expires: expiry(entry.expires, at(`${where}.expires`)),
    });
  }
  return robots;
}

/**
 * Parses one robot scope, `repository:PATTERN:ACTIONS`; throws PolicyError prefixed with
 * `where`. The CLI checks `--scope` with it before writing.
 */
export function parseRobotScope(scope: unknown, where: string): RobotGrant {
  const match = typeof scope === 'string' ? /^repository:([^:]+):([a-z,*]+)$/.exec(scope) : null;
  if (!match)
    throw new PolicyError(
      `${where}: expected repository:PATTERN:ACTIONS such as repository:ci/*:pull,push, got ${JSON.stringify(scope)}`,
    );
  const pattern = guard(() => compilePattern(match[1] as string), where);
  if (pattern.perUser) throw new PolicyError(`${where}: \${user} has no meaning for a robot`);
  return { pattern, actions: guard(() => parseActions((match[2] as string).split(','), true), where) };
}

function expiry(value: unknown, where: string): number | undefined {
  if (value === undefined || value === null) return undefined;
  const time =
    value instanceof Date ? value.getTime() : typeof value === 'string' ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(time)) throw new PolicyError(`${where}: expected a date such as 2027-03-01T00:00:00Z`);
  return time;
}

function parseRules(node: unknown, at: Locate): RepositoryRule[] {
  if (node === undefined || node === null) return [];
  if (!Array.isArray(node)) throw new PolicyError(`${at('repositories')}: expected a list of rules`);
  return node.map((value, i) => {
    const where = at(`repositories[${i}]`);
    const entry = mapping(value, where);
    onlyKeys(entry, ['match', 'anonymous', 'authenticated', 'owner', 'users', 'teams'], where);
    if (typeof entry.match !== 'string')
      throw new PolicyError(`${where}.match: expected a pattern such as "team-a/**"`);
    const pattern = guard(() => compilePattern(entry.match as string), `${where}.match`);
    if (entry.owner !== undefined && !pattern.perUser)
      throw new PolicyError(`${where}.owner: only has a meaning in a pattern with \${user}`);
    return {
      pattern,
      anonymous: actionList(entry.anonymous, `${where}.anonymous`),
      authenticated: actionList(entry.authenticated, `${where}.authenticated`),
      owner: actionList(entry.owner, `${where}.owner`),
      users: actionMap(entry.users, `${where}.users`),
      teams: actionMap(entry.teams, `${where}.teams`),
    };
  });
}

/** A rule naming a team nobody defined is a typo that would silently grant nothing. */
function requireDefinedTeams(rules: RepositoryRule[], teams: Map<string, string[]>, at: Locate): void {
  rules.forEach((rule, i) => {
    for (const team of rule.teams.keys()) {
      if (teams.has(team)) continue;
      const defined = teams.size > 0 ? ` (defined: ${[...teams.keys()].join(', ')})` : '';
      throw new PolicyError(
        `${at(`repositories[${i}].teams.${team}`)}: no team ${team} under teams${defined}; add it with berth team add ${team}`,
      );
    }
  });
}

function actionMap(node: unknown, where: string): Map<string, Action[]> {
  const result = new Map<string, Action[]>();
  for (const [name, actions] of Object.entries(mapping(node ?? {}, where))) {
    result.set(name, actionList(actions, `${where}.${name}`));
  }
  return result;
}

function actionList(node: unknown, where: string): Action[] {
  if (node === undefined || node === null) return [];
  if (!Array.isArray(node))
    throw new PolicyError(`${where}: expected a list of actions such as [pull, push]`);
  return guard(() => parseActions(node, true), where);
}

function accountName(name: string, where: string): void {
  if (!ACCOUNT_NAME.test(name))
    throw new PolicyError(`${where}: names are lower-case letters, digits and . _ - between them`);
}

function mapping(node: unknown, where: string): Record<string, unknown> {
  if (typeof node === 'object' && node !== null && !Array.isArray(node))
    return node as Record<string, unknown>;
  throw new PolicyError(`${where}: expected a mapping`);
}

function onlyKeys(node: Record<string, unknown>, allowed: string[], where: string): void {
  for (const key of Object.keys(node)) {
    if (!allowed.includes(key))
      throw new PolicyError(`${where}: unknown key ${key} (expected one of ${allowed.join(', ')})`);
  }
}

function guard<T>(parse: () => T, where: string): T {
  try {
    return parse();
  } catch (err) {
    throw new PolicyError(`${where}: ${(err as Error).message}`);
  }
}
