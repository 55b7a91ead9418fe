/**
 * Short reasons for failed system calls, for one-line messages that already name the path or
 * address: "permission denied" rather than Node's "EACCES: permission denied, mkdir '/x'".
 */
import { getSystemErrorMap } from 'node:util';

/** The operating system's reason for `err` in lower case, or its message for other errors. */
export function systemErrorReason(err: unknown): string {
  const errno = (err as NodeJS.ErrnoException | undefined)?.errno;
  const entry = typeof errno === 'number' ? getSystemErrorMap().get(errno) : undefined;
  if (entry) return entry[1];
  return err instanceof Error ? err.message : String(err);
}

/** Whether `err` is a failed system call with error code `code` (ENOENT, EEXIST...). */
export function hasErrorCode(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as NodeJS.ErrnoException).code === code;
}
