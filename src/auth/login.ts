/**
 * Logging in with a name and password (or robot secret), guarded by the login limiter, and
 * reading HTTP Basic credentials. Shared by basic mode and the token server.
 */
import { RegistryError } from '../registry/errors.js';
import type { Accounts } from './accounts.js';
import type { ObserveAuth } from './authorizer.js';
import type { LoginLimiter } from './login-limiter.js';
import type { Identity } from './permissions.js';

/** Name and password from a request. */
export interface Credentials {
  username: string;
  password: string;
}

/** Credentials of an `Authorization: Basic ...` header; undefined when there is none or it is
 * another scheme. A malformed Basic header is a 400. */
export function basicCredentials(header: string | undefined): Credentials | undefined {
  const match = header === undefined ? null : /^Basic\s+(\S+)\s*$/i.exec(header);
  if (!match) return undefined;
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw new RegistryError('UNAUTHORIZED', 'malformed Basic credentials', { status: 400 });
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** What a login attempt needs. */
export interface LoginAttempt extends Credentials {
  /** Client address, for the limiter. */
  remote: string;
}

/**
 * Checks credentials; resolves with the identity, or throws 401 (wrong) or 429 (too many
 * failures). `challenge` is put on the 401 so clients know how to retry.
 */
export type Login = (
  accounts: Accounts,
  attempt: LoginAttempt,
  challenge?: Record<string, string>,
) => Promise<Identity>;

/** The login check of one process: its limiter, reporting each outcome to `observe`. */
export function createLogin(limiter: LoginLimiter, observe: ObserveAuth): Login {
  return async (accounts, attempt, challenge = {}) => {
    try {
      limiter.check(attempt);
    } catch (err) {
      observe('login_limited');
      throw err;
    }
    const identity = await accounts.authenticate(attempt.username, attempt.password);
    if (identity) {
      limiter.succeed(attempt);
      observe('login_success');
      return identity;
    }
    limiter.fail(attempt);
    observe('login_failure');
    throw new RegistryError('UNAUTHORIZED', 'incorrect user name or password', { headers: challenge });
  };
}
