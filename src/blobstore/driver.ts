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

/** An object as a flat listing shows it: no size (on S3 a committed object's is behind its pointer). */
export interface ScannedObject {
  path: string;
  /** When the object was last written. */
  modTime: Date;
}

/** What `walk` should do after visiting a directory. */
export type WalkDecision = 'continue' | 'skip';

/** Called for every entry below the walked path, in lexical order, parents before children. */
export type WalkVisitor = (info: FileInfo) => WalkDecision | undefined | Promise<WalkDecision | undefined>;

/** A condition on a write: the object is still the version read, or does not exist yet. */
export type WriteCondition = { ifMatch: string } | { ifNoneMatch: '*' };

/** A small object read whole, with the version a conditional write compares against. */
export interface VersionedContent {
  content: Buffer;
  version: string;
}

/** Paging of `list`: names after `after` (exclusive), at most `limit` of them. */
export interface ListPage {
  after?: string;
  limit?: number;
}

/**
 * A large object being written in pieces, possibly by several processes one after another:
 * an upload session's bytes. The record is the driver's own (JSON-serialisable, small); the
 * caller keeps it (in the session's state object) and hands it back for the next step. Only
 * `size` is for the caller to read.
 */
export interface StagedObject {
  /** Bytes written so far. */
  readonly size: number;
  readonly [detail: string]: unknown;
}

/**
 * Writing large objects in steps. The caller serialises the steps of one staged object (the
 * upload service claims the session first); the driver still never lets a write it did not
 * acknowledge reach a committed object: `commit` fails instead.
 */
export interface StagedWrites {
  /**
   * Begins a staged object whose data is kept at or below `path` (a layout path) while it is
   * written, and may stay there after `commit`.
   */
  start(path: string): Promise<StagedObject>;
  /**
   * Adds everything `source` yields and resolves with the new record. All or nothing: when the
   * source fails (even after its last byte, which is how a caller rejects a chunk) or the store
   * fails midway, the object is as `staged` describes it and the error is rethrown. Memory
   * stays bounded by one part (`storage.s3.chunksize`) per write, whatever the source's size.
   */
  write(staged: StagedObject, source: Readable): Promise<StagedObject>;
  /**
   * Makes the staged bytes the object at `path`, replacing any, without copying them through
   * this process (S3 completes the multipart upload in place). Rejects, committing nothing,
   * when the stored bytes are not exactly those `staged` acknowledges.
   */
  commit(staged: StagedObject, path: string): Promise<void>;
  /** Drops a staged object and everything written for it. Idempotent. */
  discard(staged: StagedObject): Promise<void>;
}

/**
 * Something an interrupted write left in storage: part of no object. A crash between a temp
 * file and its rename, a chunk cut off by an outage (an unfinished multipart upload), a
 * commit that stopped before its pointer was written.
 */
export interface Leftover {
  /** Where it is, as a driver path (a temp file's own name is a dot-file's). */
  path: string;
  kind: 'temp file' | 'staged data' | 'unfinished upload';
  /** Bytes, where a listing tells; 0 for an unfinished upload. */
  size: number;
  /** When it was last written (started, for an upload). */
  modTime: Date;
  /** The driver's own name for it, when the path is not enough (a multipart upload's id). */
  handle?: string;
}

/**
 * Finding and removing leftovers, for `berth fsck`; never per request (a listing reads the
 * whole store). The driver cannot know which staged objects are still being written (their
 * records are the callers'), so it lists those too, each at or below the path its `start`
 * was given, and the caller keeps the ones it knows to be open.
 */
export interface LeftoverSweeping {
  /**
   * The leftovers last written before `before`: the driver's own hidden files anywhere (temp
   * and lock files, unfinished multipart uploads), and the objects below `stagingRoot` (the
   * directory staged writes start in) that no committed object uses.
   */
  list(stagingRoot: string, before: Date): AsyncIterable<Leftover>;
  /** Removes one leftover `list` reported; one that is gone already is fine. */
  remove(leftover: Leftover): Promise<void>;
}

/** The operations every backend implements. */
export interface StorageDriver {
  /** Short backend name, used in logs and metrics. */
  readonly name: string;
  /**
   * True when `putContent` enforces its condition. Some S3-compatible stores ignore the
   * headers; then a conditional write is a plain one and callers must say what that costs.
   */
  readonly conditionalWrites: boolean;
  /** Reads a small object whole. Throws PathNotFoundError. */
  getContent(path: string): Promise<Buffer>;
  /** Reads a small object whole with its version. Throws PathNotFoundError. */
  getVersioned(path: string): Promise<VersionedContent>;
  /**
   * Writes a small object atomically and durably, replacing any previous one, and resolves
   * with its new version. With a condition, throws PreconditionFailedError and writes nothing
   * when the object is not at that version (or exists, for `ifNoneMatch`). Every write
   * refused for lack of space throws StorageFullError.
   */
  putContent(path: string, content: Uint8Array, condition?: WriteCondition): Promise<string>;
  /**
   * Opens a stream over `length` bytes starting at `offset` (to the end when `length` is
   * undefined). Throws PathNotFoundError before any byte is produced.
   */
  reader(path: string, offset?: number, length?: number): Promise<Readable>;
  /**
   * Describes an object; throws PathNotFoundError when there is none. A directory (a prefix
   * with objects below it) is not an object: on S3, telling it from nothing would cost a
   * listing on every miss, and a miss is common (a HEAD before each layer push).
   */
  stat(path: string): Promise<FileInfo>;
  /**
   * Names (not paths) of the direct children of a directory, sorted bytewise, optionally one
   * page of them. Throws PathNotFoundError when there are none.
   */
  list(path: string, page?: ListPage): Promise<string[]>;
  /**
   * Moves an object, replacing the destination; the destination becomes visible whole or not
   * at all. Cheap for committed staged objects and small objects; not for large objects
   * written with `putContent` (there are none). Throws PathNotFoundError when `from` is missing.
   */
  move(from: string, to: string): Promise<void>;
  /** Deletes an object or a whole directory tree. Throws PathNotFoundError. */
  delete(path: string): Promise<void>;
  /**
   * Deletes objects (never directories) in as few requests as the backend allows: S3 deletes a
   * thousand keys per request. Paths already gone are skipped. For maintenance jobs (GC).
   */
  deleteMany(paths: string[]): Promise<void>;
  /**
   * Every object below `path`, in bytewise order of paths, from flat listings (S3 lists a
   * thousand keys per request and is asked nothing per object); nothing when there are none.
   * An object written while the scan runs may or may not be seen. For maintenance jobs (GC).
   */
  scan(path: string): AsyncIterable<ScannedObject>;
  /** Visits everything below `path`; see WalkVisitor. For maintenance jobs, never per request. */
  walk(path: string, visit: WalkVisitor): Promise<void>;
  /**
   * A URL from which a client may GET the object directly for a while (a presigned S3 URL),
   * or undefined when the backend does not hand out URLs (or is configured not to).
   */
  redirectURL(path: string): Promise<string | undefined>;
  /** Large objects written in steps. */
  staged: StagedWrites;
  /** What interrupted writes left behind. */
  leftovers: LeftoverSweeping;
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

/** A conditional write found the object at another version (or present, for `ifNoneMatch`). */
export class PreconditionFailedError extends Error {
  readonly path: string;
  constructor(path: string) {
    super(`precondition failed: ${path} changed`);
    this.name = 'PreconditionFailedError';
    this.path = path;
  }
}

/**
 * The store could not be reached or kept failing after retries (throttling, 5xx, network).
 * The registry answers it with 503 UNAVAILABLE; nothing was half-written.
 */
export class StorageUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorageUnavailableError';
  }
}

/** True for PreconditionFailedError. */
export function isPreconditionFailed(err: unknown): err is PreconditionFailedError {
  return err instanceof PreconditionFailedError;
}

/** True for StorageUnavailableError. */
export function isUnavailable(err: unknown): err is StorageUnavailableError {
  return err instanceof StorageUnavailableError;
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
