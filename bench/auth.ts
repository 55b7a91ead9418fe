/**
 * `--auth token`: the policy file and environment that put Berth's built-in token server in
 * front of the registry, and the client half of the Docker token protocol (Basic credentials
 * to `/auth/token`, a bearer token back) as a real client does it, once per repository.
 */
import { randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { hashPassword } from '../src/auth/secrets.js';
import type { RawConnection } from './raw-http.js';
import { BenchError, expectStatus, requestHead } from './registry-client.js';

/** Which auth Berth runs with in the benchmark. */
export type AuthMode = 'none' | 'token';

/** A name and password of the bench's policy file. */
export interface Account {
  username: string;
  password: string;
}

/** The accounts the bench's policy holds. */
export interface BenchAuth {
  /** May do everything on every repository; every scenario's token is fetched with it. */
  admin: Account;
  /**
   * Users without any grant who each log in once, in the token scenario: only a credential's
   * first login pays bcrypt, so a cold login needs a credential nobody has used yet.
   */
  coldUsers: Account[];
}

/** `auth.token.service`, which every token request must name. */
export const TOKEN_SERVICE = 'berth';
/** Cold users in the policy: the token scenario uses half one at a time, half at once. */
export const COLD_USERS = 8;
/** Every action; the admin is granted all of them, so the token covers setup and measurement. */
const ALL_ACTIONS = 'pull,push,delete';

/** Berth's environment for token auth, and the accounts its policy holds. */
export interface TokenAuthSetup {
  env: Record<string, string>;
  auth: BenchAuth;
}

/**
 * Writes `<workDir>/policy.yml` (the admin and the cold users, bcrypt cost 12 as `berth user
 * add` writes them) and returns the environment that turns token auth on with it.
 */
export async function prepareTokenAuth(
  workDir: string,
  log: (message: string) => void,
): Promise<TokenAuthSetup> {
  const account = (username: string) => ({ username, password: randomBytes(18).toString('base64url') });
  const admin = account('bench-admin');
  const coldUsers = Array.from({ length: COLD_USERS }, (_, i) => account(`bench-cold-${i + 1}`));
  const started = performance.now();
  const hashes = await Promise.all([admin, ...coldUsers].map((user) => hashPassword(user.password)));
  log(
    `[auth] hashed ${hashes.length} passwords (bcrypt cost 12) in ${(performance.now() - started).toFixed(0)} ms`,
  );
  const [adminHash, ...coldHashes] = hashes as [string, ...string[]];
  const users: Record<string, { password: string; admin?: boolean }> = {
    [admin.username]: { password: adminHash, admin: true },
  };
  coldUsers.forEach((user, i) => {
    users[user.username] = { password: coldHashes[i] as string };
  });
  // JSON is valid YAML and needs no quoting rules for the `$` in bcrypt hashes.
  const policyFile = join(workDir, 'policy.yml');
  await writeFile(policyFile, `${JSON.stringify({ users, repositories: [] }, null, 2)}\n`, { mode: 0o600 });
  return {
    env: {
      BERTH_AUTH_MODE: 'token',
      BERTH_AUTH_POLICY: policyFile,
      BERTH_AUTH_TOKEN_SIGNINGKEY: join(workDir, 'key.pem'),
      // Tokens are fetched before a scenario starts; the default 5 minutes could run out
      // during a long --duration or a slow 256 MiB scenario.
      BERTH_AUTH_TOKEN_EXPIRATION: '1h',
    },
    auth: { admin, coldUsers },
  };
}

/** `Authorization: Basic ...` of `account`. */
export function basicAuthorization(account: Account): string {
  return `Basic ${Buffer.from(`${account.username}:${account.password}`).toString('base64')}`;
}

/** Path and query of a token request for `actions` on `repo`. */
export function tokenPath(repo: string, actions = ALL_ACTIONS): string {
  const scope = encodeURIComponent(`repository:${repo}:${actions}`);
  return `/auth/token?service=${TOKEN_SERVICE}&scope=${scope}`;
}

/** The head of a token request by `account` for `actions` on `repo`. */
export function tokenRequestHead(
  host: string,
  account: Account,
  repo: string,
  actions = ALL_ACTIONS,
): string {
  return requestHead('GET', tokenPath(repo, actions), host, { Authorization: basicAuthorization(account) });
}

/**
 * Fetches a token for every action on `repo` as the admin; fails unless the token grants all
 * of them, so a policy mistake shows here rather than as 401s in the middle of a scenario.
 */
export async function fetchToken(
  conn: RawConnection,
  host: string,
  admin: Account,
  repo: string,
): Promise<string> {
  const what = `GET ${tokenPath(repo)}`;
  const response = await conn.request(tokenRequestHead(host, admin, repo), { keepBody: true });
  expectStatus(response, 200, what);
  const body = JSON.parse((response.body as Buffer).toString('utf8')) as { token?: unknown; scope?: unknown };
  if (typeof body.token !== 'string' || body.token === '')
    throw new BenchError(`${what}: no token in the answer`);
  if (body.scope !== `repository:${repo}:${ALL_ACTIONS}`) {
    throw new BenchError(`${what}: granted ${JSON.stringify(body.scope)}, not all of ${ALL_ACTIONS}`);
  }
  return body.token;
}
