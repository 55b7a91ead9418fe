/**
 * Logging a condition that every request runs into while it lasts (storage down): the first
 * occurrence is logged, then at most one line per interval saying how many were not.
 */
import type { Fields } from './logger.js';

/** Logs `message` with `fields`, plus `suppressed`: occurrences not logged since the last line. */
export type ThrottledLog = (message: string, fields?: Fields) => void;

/** Options of throttledLog. */
export interface ThrottleOptions {
  intervalMs: number;
  /** Milliseconds since the epoch; tests pass their own clock. */
  now?: () => number;
}

/** Wraps `log` so that it writes at most one line per `intervalMs`. */
export function throttledLog(
  log: (message: string, fields: Fields) => void,
  options: ThrottleOptions,
): ThrottledLog {
  const now = options.now ?? Date.now;
  let last = Number.NEGATIVE_INFINITY;
  let suppressed = 0;
  return (message, fields = {}) => {
    if (now() - last < options.intervalMs) {
      suppressed += 1;
      return;
    }
    log(message, { ...fields, suppressed });
    last = now();
    suppressed = 0;
  };
}
