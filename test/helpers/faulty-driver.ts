/**
 * A storage driver wrapper for tests that makes chosen operations wait or fail: a race is
 * reproduced by holding one request's storage call at a gate while another request runs, and a
 * fault by throwing where a real store would. Works over any StorageDriver.
 */
import type { StorageDriver } from '../../src/blobstore/driver.js';

/** Names of the operations a fault can match; staged writes are `staged.<step>`. */
export type DriverOperation =
  | 'getContent'
  | 'getVersioned'
  | 'putContent'
  | 'reader'
  | 'stat'
  | 'list'
  | 'move'
  | 'delete'
  | 'deleteMany'
  | 'walk'
  | 'redirectURL'
  | 'staged.start'
  | 'staged.write'
  | 'staged.commit'
  | 'staged.discard';

/** What to do to matching operations. */
export interface Fault {
  operation: DriverOperation;
  /**
   * Which paths (the operation's path argument; `move` passes `from`; `staged.write` and
   * `staged.discard` have none, so only faults without `path` match them); all when absent.
   */
  path?: (path: string) => boolean;
  /** Before the operation runs (the default), or after it succeeded, before its caller resumes. */
  when?: 'before' | 'after';
  /** Awaited first: a gate's `wait`, or anything else that resolves. */
  delay?: () => Promise<unknown>;
  /** Thrown then: before, the operation does not run; after, it ran but its caller fails. */
  error?: Error;
  /** How many matching calls the fault applies to; every one when absent. */
  times?: number;
}

/** The wrapped driver and its controls. */
export interface FaultyDriver extends StorageDriver {
  /** Adds a fault; returns a function that removes it. */
  inject(fault: Fault): () => void;
  /** Removes every fault. */
  clear(): void;
}

/** A point where operations wait until the test opens it. */
export interface Gate {
  /** Resolves when the first operation arrives at the gate. */
  reached: Promise<void>;
  /** Lets every waiting and later operation through. */
  open(): void;
  /** For Fault.delay. */
  wait(): Promise<void>;
}

/** Creates a closed gate. */
export function createGate(): Gate {
  let arrive = () => {};
  let release = () => {};
  const reached = new Promise<void>((resolve) => {
    arrive = resolve;
  });
  const opened = new Promise<void>((resolve) => {
    release = resolve;
  });
  return {
    reached,
    open: () => release(),
    wait() {
      arrive();
      return opened;
    },
  };
}

interface ActiveFault extends Fault {
  left: number;
}

/** Wraps a driver so that faults can be injected into it. */
export function faultyDriver(inner: StorageDriver): FaultyDriver {
  let faults: ActiveFault[] = [];

  function take(operation: DriverOperation, path: string | undefined, when: 'before' | 'after'): Fault[] {
    const matching = faults.filter(
      (fault) =>
        fault.operation === operation &&
        (fault.when ?? 'before') === when &&
        (!fault.path || (path !== undefined && fault.path(path))),
    );
    for (const fault of matching) fault.left--;
    faults = faults.filter((fault) => fault.left > 0);
    return matching;
  }

  async function apply(applied: Fault[]): Promise<void> {
    for (const fault of applied) {
      await fault.delay?.();
      if (fault.error) throw fault.error;
    }
  }

  async function run<T>(operation: DriverOperation, path: string | undefined, call: () => Promise<T>) {
    await apply(take(operation, path, 'before'));
    const result = await call();
    await apply(take(operation, path, 'after'));
    return result;
  }

  return {
    name: inner.name,
    get conditionalWrites() {
      return inner.conditionalWrites;
    },
    getContent: (path) => run('getContent', path, () => inner.getContent(path)),
    getVersioned: (path) => run('getVersioned', path, () => inner.getVersioned(path)),
    putContent: (path, content, condition) =>
      run('putContent', path, () => inner.putContent(path, content, condition)),
    reader: (path, offset, length) => run('reader', path, () => inner.reader(path, offset, length)),
    stat: (path) => run('stat', path, () => inner.stat(path)),
    list: (path, page) => run('list', path, () => inner.list(path, page)),
    move: (from, to) => run('move', from, () => inner.move(from, to)),
    delete: (path) => run('delete', path, () => inner.delete(path)),
    deleteMany: (paths) => run('deleteMany', paths[0] ?? '/', () => inner.deleteMany(paths)),
    scan: (path) => inner.scan(path),
    walk: (path, visit) => run('walk', path, () => inner.walk(path, visit)),
    redirectURL: (path) => run('redirectURL', path, () => inner.redirectURL(path)),
    staged: {
      start: (path) => run('staged.start', path, () => inner.staged.start(path)),
      write: (staged, source) => run('staged.write', undefined, () => inner.staged.write(staged, source)),
      commit: (staged, path) => run('staged.commit', path, () => inner.staged.commit(staged, path)),
      discard: (staged) => run('staged.discard', undefined, () => inner.staged.discard(staged)),
    },
    leftovers: inner.leftovers,
    inject(fault) {
      const active: ActiveFault = { ...fault, left: fault.times ?? Number.POSITIVE_INFINITY };
      faults.push(active);
      return () => {
        faults = faults.filter((candidate) => candidate !== active);
      };
    },
    clear() {
      faults = [];
    },
  };
}
