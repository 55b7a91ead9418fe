/**
 * Slowing down password guessing: failed logins are counted per client address and per user
 * name in a fixed window; once either count reaches the limit, further attempts are refused
 * (429 with Retry-After) until that window ends, without checking the password at all.
 */
import { RegistryError } from '../registry/errors.js';

/** Limits of the limiter. */
export interface LoginLimits {
  /** Failures allowed per key within `window`. */
  failures: number;
  /** Window length in milliseconds. */
  window: number;
}

/** The limiter of one process. */
export interface LoginLimiter {
  /** Throws 429 TOOMANYREQUESTS if any of `keys` is locked out. */
  check(keys: string[]): void;
  /** Records a failed attempt against each of `keys`. */
  fail(keys: string[]): void;
  /** Forgets failures of `key` (after a successful login by that user). */
  forget(key: string): void;
}

const MAX_TRACKED = 50_000;

/** Creates a limiter; `limits.failures` of 0 turns it off. */
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
  return {
    check(keys) {
      if (limits.failures <= 0) return;
      let until = 0;
      for (const key of keys) {
        const entry = live(key);
        if (entry && entry.count >= limits.failures) until = Math.max(until, entry.until);
      }
      if (until === 0) return;
      const seconds = Math.max(1, Math.ceil((until - now()) / 1000));
      throw new RegistryError('TOOMANYREQUESTS', 'too many failed logins; try again later', {
        headers: { 'Retry-After': String(seconds) },
      });
    },
    fail(keys) {
      if (limits.failures <= 0) return;
      if (counts.size > MAX_TRACKED) {
        for (const key of counts.keys()) live(key);
        // Still full: an attacker cycling through names. Dropping all is safer than growing.
        if (counts.size > MAX_TRACKED) counts.clear();
      }
      for (const key of keys) {
        const entry = live(key);
        if (entry) entry.count++;
        else counts.set(key, { count: 1, until: now() + limits.window });
      }
    },
    forget(key) {
      counts.delete(key);
    },
  };
}
