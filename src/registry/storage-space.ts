/**
 * What the registry knows about storage space. Drivers have no "free space" call (an object
 * store has no such notion), so it is learnt from writes: a write refused for lack of space
 * (StorageFullError) is answered with 507 Insufficient Storage, and storage counts as full
 * while such refusals keep coming. Reads never need space and keep working.
 */
import { isStorageFull, type StorageDriver } from '../blobstore/driver.js';
import { RegistryError } from './errors.js';

/** Storage counts as full until this long after the last refused write. */
export const FULL_WINDOW_MS = 60_000;

/** What was refused since the last report. */
export interface SpaceReport {
  /** Writes refused for lack of space since the previous report. */
  refused: number;
  /** When the current run of refusals began. */
  since: Date;
}

/** Options of watchStorageSpace. */
export interface SpaceWatchOptions {
  /** Called for every refused write (a metric). */
  onRefused?: () => void;
  /** Called for the first refused write and then at most once per FULL_WINDOW_MS (a log line). */
  onReport?: (report: SpaceReport) => void;
  /** Milliseconds since the epoch; tests pass their own clock. */
  now?: () => number;
}

/** The registry's view of storage space. */
export interface StorageSpace {
  /** When writes began to be refused for lack of space, or undefined when none was lately. */
  fullSince(): Date | undefined;
}

/** Wraps `driver` so that writes refused for lack of space become 507 answers and are tracked. */
export function watchStorageSpace(
  driver: StorageDriver,
  options: SpaceWatchOptions = {},
): { driver: StorageDriver; space: StorageSpace } {
  const now = options.now ?? Date.now;
  let since: number | undefined;
  let lastRefusal = Number.NEGATIVE_INFINITY;
  let lastReport = Number.NEGATIVE_INFINITY;
  let unreported = 0;
  const full = () => now() - lastRefusal < FULL_WINDOW_MS;

  const refused = (err: unknown): unknown => {
    if (!isStorageFull(err)) return err;
    if (!full()) since = now();
    lastRefusal = now();
    unreported += 1;
    options.onRefused?.();
    if (lastRefusal - lastReport >= FULL_WINDOW_MS) {
      options.onReport?.({ refused: unreported, since: new Date(since ?? lastRefusal) });
      lastReport = lastRefusal;
      unreported = 0;
    }
    return insufficientStorage();
  };
  const guard = <T>(work: Promise<T>): Promise<T> =>
    work.catch((err: unknown) => {
      throw refused(err);
    });

  return {
    space: { fullSince: () => (full() && since !== undefined ? new Date(since) : undefined) },
    driver: {
      name: driver.name,
      conditionalWrites: driver.conditionalWrites,
      getContent: (path) => driver.getContent(path),
      getVersioned: (path) => driver.getVersioned(path),
      putContent: (path, content, condition) => guard(driver.putContent(path, content, condition)),
      reader: (path, offset, length) => driver.reader(path, offset, length),
      stat: (path) => driver.stat(path),
      list: (path, page) => driver.list(path, page),
      move: (from, to) => guard(driver.move(from, to)),
      delete: (path) => driver.delete(path),
      deleteMany: (paths) => driver.deleteMany(paths),
      scan: (path) => driver.scan(path),
      walk: (path, visit) => driver.walk(path, visit),
      redirectURL: (path) => driver.redirectURL(path),
      staged: {
        start: (path) => driver.staged.start(path),
        write: (staged, source) => guard(driver.staged.write(staged, source)),
        commit: (staged, to) => guard(driver.staged.commit(staged, to)),
        discard: (staged) => driver.staged.discard(staged),
      },
      leftovers: driver.leftovers,
    },
  };
}

/** The answer to a write refused for lack of space. */
function insufficientStorage(): RegistryError {
  return new RegistryError(
    'UNKNOWN',
    'the registry is out of storage space: pushes fail until space is freed; pulls still work',
    { status: 507 },
  );
}
