/**
 * What `berth` prints and exits with when a command fails in a way it expects (bad usage, an
 * invalid configuration or policy file, a port in use, a store that stops answering), as opposed to a bug, which keeps its
 * stack trace. A cluster worker hands this to its primary, which exits with it in turn.
 */
import { PolicyError } from '../auth/policy-error.js';
import { isUnavailable } from '../blobstore/driver.js';
import { ConfigError } from '../config/load.js';
import { hasErrorCode, systemErrorReason } from '../fs/system-error.js';
import { CliError } from './io.js';

/** An expected failure: the line after `berth: ` and the exit code. */
export interface ExpectedFailure {
  message: string;
  exitCode: number;
}

/** The expected failure `error` is, or undefined when it is a bug. */
export function expectedFailure(error: unknown): ExpectedFailure | undefined {
  if (error instanceof CliError) return { message: error.message.trimEnd(), exitCode: error.exitCode };
  if (error instanceof ConfigError || error instanceof PolicyError)
    return { message: error.message, exitCode: 2 };
  // The store answered the start-up probe and then failed after retries: an outage, not a bug.
  if (isUnavailable(error)) return { message: `storage unavailable: ${error.message}`, exitCode: 1 };
  // A file Berth may not touch (a store once written by another user): the machine's setup.
  if (hasErrorCode(error, 'EACCES') || hasErrorCode(error, 'EPERM')) {
    const path = (error as NodeJS.ErrnoException).path;
    return { message: `${path ?? 'a file'}: ${systemErrorReason(error)}`, exitCode: 2 };
  }
  return undefined;
}
