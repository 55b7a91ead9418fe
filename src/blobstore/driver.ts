/**
 * The storage driver interface: a dumb, path-addressed object store. Drivers know nothing
 * about digests, repositories or uploads; every registry rule lives above them, once, for
 * every backend. Paths are absolute, `/`-separated and already validated by `checked.ts`.
 */
import type { Readable } from 'node:stream';

/** What `stat` and `walk` report about a path. */
export interface FileInfo {
  /** The driver path, e.g. `/blobs/sha256/ab/ab12.../data`. */
  path: string;
  /** Size in bytes; 0 for directories. */
  size: number;
  /** Last modification time. */
  modTime: Date;
  /**
   * An opaque token that changes whenever the object is written or replaced, so callers can
   * cache what they read and check it with a cheap `stat`.
   */
  version: string;
  /** True for a directory (a prefix, on object stores). */
  isDir: boolean;
}

/** What `walk` should do after visiting a directory. */
export type WalkDecision = 'continue' | 'skip';

/** Called for every entry below the walked path, in lexical order, parents before children. */
export type WalkVisitor = (info: FileInfo) => WalkDecision | undefined | Promise<WalkDecision | undefined>;

/** The operations every backend implements. */
export interface StorageDriver {
  /** Short backend name, used in logs and metrics. */
  readonly name: string;
  /** Reads a small object whole. Throws PathNotFoundError. */
  getContent(path: string): Promise<Buffer>;
  /**
   * Writes a small object atomically and durably, replacing any previous one. Every write
   * (`putContent`, `append`, `move`) refused for lack of space throws StorageFullError.
   */
  putContent(path: string, content: Uint8Array): Promise<void>;
  /**
   * Opens a stream over `length` bytes starting at `offset` (to the end when `length` is
   * undefined). Throws PathNotFoundError before any byte is produced.
   */
  reader(path: string, offset?: number, length?: number): Promise<Readable>;
  /**
   * Appends everything `source` yields to the object at `path`, creating it if needed, and
   * resolves with the object's new size. All or nothing: when the source fails (even after
   * its last byte, which is how a caller rejects a chunk) or the write fails midway, the
   * object keeps exactly the bytes it had (none, if the call created it) and the error is
   * rethrown. While an append is under way `stat` may report the old size or any size up to
   * the new one. A backend may stream into the object and cut a failed append off again, or
   * keep the new bytes aside until the source ends (S3: a part per append).
   */
  append(path: string, source: Readable): Promise<number>;
  /** Describes an object or directory. Throws PathNotFoundError. */
  stat(path: string): Promise<FileInfo>;
  /** Names (not paths) of the direct children of a directory, sorted. Throws PathNotFoundError. */
  list(path: string): Promise<string[]>;
  /**
   * Moves an object atomically, replacing the destination. The destination becomes visible
   * whole and durable, or not at all. Throws PathNotFoundError when `from` is missing.
   */
  move(from: string, to: string): Promise<void>;
  /** Deletes an object or a whole directory tree. Throws PathNotFoundError. */
  delete(path: string): Promise<void>;
  /** Visits everything below `path`; see WalkVisitor. Throws PathNotFoundError. */
  walk(path: string, visit: WalkVisitor): Promise<void>;
}

/** The driver's "no such path" error; the registry layer maps it to BLOB_UNKNOWN and friends. */
export class PathNotFoundError extends Error {
  readonly path: string;
  constructor(path: string) {
    super(`path not found: ${path}`);
    this.name = 'PathNotFoundError';
    this.path = path;
  }
}

/**
 * The driver's "out of space" error (a full disk, a quota): a write was refused and changed
 * nothing. The registry answers it with 507 and keeps serving reads.
 */
export class StorageFullError extends Error {
  readonly path: string;
  constructor(path: string, options?: { cause?: unknown }) {
    super(`storage is full: cannot write ${path}`, options);
    this.name = 'StorageFullError';
    this.path = path;
  }
}

/** A path that the driver refuses: it is not of the layout's form. A programming error. */
export class InvalidPathError extends Error {
  readonly path: string;
  constructor(path: string) {
    super(`invalid storage path: ${JSON.stringify(path)}`);
    this.name = 'InvalidPathError';
    this.path = path;
  }
}

/** True for PathNotFoundError. */
export function isNotFound(err: unknown): err is PathNotFoundError {
  return err instanceof PathNotFoundError;
}

/** True for StorageFullError. */
export function isStorageFull(err: unknown): err is StorageFullError {
  return err instanceof StorageFullError;
}

/** The result of `operation`, or `fallback` when it fails because the path does not exist. */
export async function orMissing<T, F>(operation: Promise<T>, fallback: F): Promise<T | F> {
  try {
    return await operation;
  } catch (err) {
    if (isNotFound(err)) return fallback;
    throw err;
  }
}
