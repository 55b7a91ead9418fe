/**
 * Slowing down password guessing: failed logins are counted in a fixed window per user name
 * at one client address, per client address, and per user name. Once any of the three
 * reaches its bound, further attempts it covers are refused (429 with Retry-After) until that
 * window ends, without the password being checked or the attempt counted.
 *
 * The narrow (user, address) count does the everyday work: a CI job with a wrong password
 * locks out only itself, not everyone behind the same NAT. The two wide counts have much
 * higher bounds: one stops a host from trying many names, the other stops many hosts from
 * trying one name. Since a locked (user, address) pair stops counting, locking a user out
 * everywhere takes `userfailures / failures` addresses.
 */
import { RegistryError } from '../registry/errors.js';

/** Limits of the limiter (`auth.loginlimit.*`); a bound of 0 is off. */
export interface LoginLimits {
  /** Failures allowed per user name at one client address within `window`. */
  failures: number;
  /** Failures allowed per client address, whatever the names tried. */
  addressfailures: number;
  /** Failures allowed per user name, whatever the addresses. */
  userfailures: number;
  /** Window length in milliseconds. */
  window: number;
}

/** Who is trying to log in from where. */
export interface LoginSource {
  username: string;
  remote: string;
}

/** The limiter of one process. */
export interface LoginLimiter {
  /** Throws 429 TOOMANYREQUESTS if any count covering `source` has reached its bound. */
  check(source: LoginSource): void;
  /** Records a failed attempt. */
  fail(source: LoginSource): void;
  /** Forgets the failures of this user at this address (after a successful login). */
  succeed(source: LoginSource): void;
}

const MAX_TRACKED = 50_000;

/** Creates a limiter. */
export function createLoginLimiter(limits: LoginLimits, now = Date.now): LoginLimiter {
  const counts = new Map<string, { count: number; until: number }>();
  const live = (key: string) => {
    const entry = counts.get(key);
    if (entry && entry.until <= now()) {
      counts.delete(key);
      return undefined;
    }
    return entry;
  };
  const bounded = (source: LoginSource): Array<[key: string, bound: number]> =>
    (
      [
        [pairKey(source), limits.failures],
        [`address:${source.remote}`, limits.addressfailures],
        [`user:${source.username}`, limits.userfailures],
      ] as Array<[string, number]>
    ).filter(([, bound]) => bound > 0);

  return {
    check(source) {
      let until = 0;
      for (const [key, bound] of bounded(source)) {
        const entry = live(key);
        if (entry && entry.count >= bound) until = Math.max(until, entry.until);
      }
      if (until === 0) return;
      const seconds = Math.max(1, Math.ceil((until - now()) / 1000));
      throw new RegistryError('TOOMANYREQUESTS', 'too many failed logins; try again later', {
        headers: { 'Retry-After': String(seconds) },
      });
    },
    fail(source) {
      if (counts.size > MAX_TRACKED) {
        for (const key of counts.keys()) live(key);
        // Still full: an attacker cycling through names. Dropping all is safer than growing.
        if (counts.size > MAX_TRACKED) counts.clear();
      }
      for (const [key] of bounded(source)) {
        const entry = live(key);
        if (entry) entry.count++;
        else counts.set(key, { count: 1, until: now() + limits.window });
      }
    },
    succeed(source) {
      counts.delete(pairKey(source));
    },
  };
}

/** The key of one user at one address; an address has no spaces, so no two sources share it. */
function pairKey({ username, remote }: LoginSource): string {
  return `pair:${remote} ${username}`;
}
