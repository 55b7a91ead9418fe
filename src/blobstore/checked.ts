/**
 * One wrapper around every driver for the checks that would otherwise be repeated in each:
 * path validation (absolute, no empty/`.`/`..` components, a safe character set) and timing
 * of every operation for metrics.
 */
import {
  InvalidPathError,
  isNotFound,
  isPreconditionFailed,
  type LeftoverSweeping,
  type StagedWrites,
  type StorageDriver,
} from './driver.js';

/**
 * How an operation ended. A missing path is `not_found`, not `error`: asking whether a blob
 * is there before uploading it is how every push starts. A conditional write that lost a race
 * is `conflict`: the caller retries or answers it, nothing failed.
 */
export type OperationOutcome = 'ok' | 'not_found' | 'conflict' | 'error';

/** Receives the duration and outcome of every driver operation. */
export type OperationObserver = (
  driver: string,
  operation: string,
  seconds: number,
  outcome: OperationOutcome,
) => void;

const VALID_PATH = /^(?:\/[A-Za-z0-9_][A-Za-z0-9._-]*)+$/;

/** Throws InvalidPathError unless `path` is `/` or `/a/b/...` with safe components. */
export function assertValidPath(path: string): void {
  if (path === '/') return;
  if (path.length > 4096 || !VALID_PATH.test(path)) throw new InvalidPathError(path);
}

function outcomeOf(err: unknown): OperationOutcome {
  if (isNotFound(err)) return 'not_found';
  if (isPreconditionFailed(err)) return 'conflict';
  return 'error';
}

/** Wraps a driver so every call validates its paths and reports its duration. */
export function checkedDriver(driver: StorageDriver, observe: OperationObserver = () => {}): StorageDriver {
  async function timed<T>(operation: string, paths: string[], run: () => Promise<T>): Promise<T> {
    for (const path of paths) assertValidPath(path);
    const started = performance.now();
    let outcome: OperationOutcome = 'error';
    try {
      const result = await run();
      outcome = 'ok';
      return result;
    } catch (err) {
      outcome = outcomeOf(err);
      throw err;
    } finally {
      observe(driver.name, operation, (performance.now() - started) / 1000, outcome);
    }
  }

  const staged: StagedWrites = {
    start: (path) => timed('staged.start', [path], () => driver.staged.start(path)),
    write: (object, source) => timed('staged.write', [], () => driver.staged.write(object, source)),
    commit: (object, to) => timed('staged.commit', [to], () => driver.staged.commit(object, to)),
    discard: (object) => timed('staged.discard', [], () => driver.staged.discard(object)),
  };

  const leftovers: LeftoverSweeping = {
    list(stagingRoot, before) {
      assertValidPath(stagingRoot);
      return driver.leftovers.list(stagingRoot, before);
    },
    remove: (leftover) => timed('leftovers.remove', [], () => driver.leftovers.remove(leftover)),
  };

  return {
    name: driver.name,
    conditionalWrites: driver.conditionalWrites,
    getContent: (path) => timed('getContent', [path], () => driver.getContent(path)),
    getVersioned: (path) => timed('getVersioned', [path], () => driver.getVersioned(path)),
    putContent: (path, content, condition) =>
      timed('putContent', [path], () => driver.putContent(path, content, condition)),
    reader: (path, offset, length) => timed('reader', [path], () => driver.reader(path, offset, length)),
    stat: (path) => timed('stat', [path], () => driver.stat(path)),
    list: (path, page) => timed('list', [path], () => driver.list(path, page)),
    move: (from, to) => timed('move', [from, to], () => driver.move(from, to)),
    delete: (path) => timed('delete', [path], () => driver.delete(path)),
    deleteMany: (paths) => timed('deleteMany', paths, () => driver.deleteMany(paths)),
    scan: (path) => {
      assertValidPath(path);
      return driver.scan(path);
    },
    walk: (path, visit) => timed('walk', [path], () => driver.walk(path, visit)),
    redirectURL: (path) => timed('redirectURL', [path], () => driver.redirectURL(path)),
    staged,
    leftovers,
  };
}
