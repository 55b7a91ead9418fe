/**
 * Checking credentials: users of the policy file and of an htpasswd file (bcrypt), and robot
 * accounts (`robot$NAME` with their secret). A successful bcrypt check is remembered for a few
 * minutes under a keyed hash of name, password and stored hash, so clients that send Basic
 * credentials with every request (basic mode) do not pay 250 ms each time; a changed
 * password changes the stored hash and so misses the memory.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Identity } from './permissions.js';
import { ANONYMOUS } from './permissions.js';
import { type Policy, ROBOT_PREFIX } from './policy.js';
import { verifyPassword, verifyRobotSecret } from './secrets.js';

/** The accounts Berth knows at one moment (one load of the policy and htpasswd files). */
export interface Accounts {
  /** The identity for these credentials, or undefined when they are wrong. */
  authenticate(username: string, password: string): Promise<Identity | undefined>;
  /** The identity a token's `sub` names, or undefined if the account is gone or expired. */
  lookup(subject: string): Identity | undefined;
  /** A short fingerprint of the account's stored credential; changes when the password does. */
  stamp(identity: Identity): string;
}

const REMEMBER_MS = 5 * 60_000;
const REMEMBER_MAX = 10_000;

/** Accounts from a policy (maybe empty) and htpasswd users (name -> bcrypt hash). */
export function createAccounts(
  policy: Policy,
  htpasswd: ReadonlyMap<string, string>,
  now = Date.now,
): Accounts {
  const key = randomBytes(32);
  const verified = new Map<string, number>();
  const checking = new Map<string, Promise<boolean>>();
  const passwordHash = (name: string) => policy.users.get(name)?.password ?? htpasswd.get(name);
  const robotOf = (subject: string) => {
    const robot = subject.startsWith(ROBOT_PREFIX)
      ? policy.robots.get(subject.slice(ROBOT_PREFIX.length))
      : undefined;
    return robot && (robot.expires === undefined || robot.expires > now()) ? robot : undefined;
  };

  const lookup = (subject: string): Identity | undefined => {
    if (subject === '') return ANONYMOUS;
    const robot = robotOf(subject);
    if (robot) return { kind: 'robot', name: robot.name, robot };
    if (passwordHash(subject) === undefined) return undefined;
    return { kind: 'user', name: subject, admin: policy.users.get(subject)?.admin === true };
  };

  return {
    async authenticate(username, password) {
      if (username.startsWith(ROBOT_PREFIX)) {
        const robot = robotOf(username);
        return robot && verifyRobotSecret(password, robot.secret) ? lookup(username) : undefined;
      }
      const hash = passwordHash(username);
      const memo = createHmac('sha256', key).update(`${username}\0${password}\0${hash}`).digest('base64');
      const until = verified.get(memo);
      if (hash !== undefined && until !== undefined && until > now()) return lookup(username);
      // Parallel requests with the same new credentials (a client opening several
      // connections) share one bcrypt run instead of each paying for its own.
      let check = checking.get(memo);
      if (!check) {
        check = verifyPassword(password, hash).finally(() => checking.delete(memo));
        checking.set(memo, check);
      }
      if (!(await check)) return undefined;
      if (verified.size >= REMEMBER_MAX) verified.clear();
      verified.set(memo, now() + REMEMBER_MS);
      return lookup(username);
    },
    lookup,
    stamp(identity) {
      const stored =
        identity.kind === 'user'
          ? passwordHash(identity.name)
          : identity.kind === 'robot'
            ? identity.robot.secret
            : '';
      return createHmac('sha256', 'berth-credential-stamp')
        .update(stored ?? '')
        .digest('base64url')
        .slice(0, 12);
    },
  };
}
