/**
 * A storage driver wrapper for race and fault tests: it runs hooks before or after the
 * operations a predicate picks (to hold one request at a chosen step while another runs, with
 * a gate rather than a sleep) and makes them fail with a given error (a store that went away,
 * a full disk). Everything else passes straight through to the wrapped driver.
 */
import type { Readable } from 'node:stream';
import type { StagedObject, StorageDriver } from '../../src/blobstore/driver.js';

/** The driver operations a fault can pick; staged writes are `staged.start` and so on. */
export type DriverOperation =
  | 'getContent'
  | 'getVersioned'
  | 'putContent'
  | 'reader'
  | 'stat'
  | 'list'
  | 'move'
  | 'delete'
  | 'walk'
  | 'redirectURL'
  | 'staged.start'
  | 'staged.write'
  | 'staged.commit'
  | 'staged.discard';

/**
 * One call of the wrapped driver. `path` is the path operated on (for `move` and
 * `staged.commit` the destination, with `from` the source); `staged.write` and
 * `staged.discard` have no path, so theirs is the record as JSON, which names its data on
 * every backend (match it with `includes(uploadId)`).
 */
export interface DriverCall {
  operation: DriverOperation;
  path: string;
  from?: string;
}

/** What to do to the calls `when` picks. Hooks may wait (see `gate`); `fail` is thrown after `before`. */
export interface Fault {
  when: (call: DriverCall) => boolean;
  /** Runs before the call reaches the driver. */
  before?: (call: DriverCall) => Promise<void> | void;
  /** Runs after the driver finished the call (successfully or not), before the caller sees it. */
  after?: (call: DriverCall) => Promise<void> | void;
  /** The call fails with this error instead of reaching the driver. */
  fail?: (call: DriverCall) => Error;
  /** Applies to this many matching calls, then is removed; forever unless said. */
  times?: number;
}

/** A wrapped driver plus the faults acting on it. */
export interface FaultyDriver {
  driver: StorageDriver;
  /** Adds a fault; returns the function that removes it. */
  inject(fault: Fault): () => void;
  /** Removes every fault. */
  clear(): void;
}

/** A promise that something else resolves: hold a call with `before: gate.wait`. */
export interface Gate {
  /** Resolves once `open` was called. */
  wait(): Promise<void>;
  open(): void;
}

/** A closed gate. */
export function gate(): Gate {
  let open = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait: () => opened, open };
}

/** Wraps `inner` so that injected faults act on its calls. */
export function faultyDriver(inner: StorageDriver): FaultyDriver {
  const faults = new Set<{ fault: Fault; left: number }>();

  const matching = (call: DriverCall) => {
    const picked: Fault[] = [];
    for (const entry of faults) {
      if (!entry.fault.when(call)) continue;
      picked.push(entry.fault);
      entry.left -= 1;
      if (entry.left <= 0) faults.delete(entry);
    }
    return picked;
  };

  async function call<T>(what: DriverCall, run: () => Promise<T>): Promise<T> {
    const picked = matching(what);
    for (const fault of picked) await fault.before?.(what);
    try {
      const failing = picked.find((fault) => fault.fail);
      if (failing?.fail) throw failing.fail(what);
      return await run();
    } finally {
      for (const fault of picked) await fault.after?.(what);
    }
  }

  const recordPath = (staged: StagedObject) => JSON.stringify(staged);
  const driver: StorageDriver = {
    name: inner.name,
    conditionalWrites: inner.conditionalWrites,
    getContent: (path) => call({ operation: 'getContent', path }, () => inner.getContent(path)),
    getVersioned: (path) => call({ operation: 'getVersioned', path }, () => inner.getVersioned(path)),
    putContent: (path, content, condition) =>
      call({ operation: 'putContent', path }, () => inner.putContent(path, content, condition)),
    reader: (path, offset, length) =>
      call({ operation: 'reader', path }, () => inner.reader(path, offset, length)),
    stat: (path) => call({ operation: 'stat', path }, () => inner.stat(path)),
    list: (path, page) => call({ operation: 'list', path }, () => inner.list(path, page)),
    move: (from, to) => call({ operation: 'move', path: to, from }, () => inner.move(from, to)),
    delete: (path) => call({ operation: 'delete', path }, () => inner.delete(path)),
    walk: (path, visit) => call({ operation: 'walk', path }, () => inner.walk(path, visit)),
    redirectURL: (path) => call({ operation: 'redirectURL', path }, () => inner.redirectURL(path)),
    staged: {
      start: (path) => call({ operation: 'staged.start', path }, () => inner.staged.start(path)),
      write: (staged, source: Readable) =>
        call({ operation: 'staged.write', path: recordPath(staged) }, () =>
          inner.staged.write(staged, source),
        ),
      commit: (staged, to) =>
        call({ operation: 'staged.commit', path: to, from: recordPath(staged) }, () =>
          inner.staged.commit(staged, to),
        ),
      discard: (staged) =>
        call({ operation: 'staged.discard', path: recordPath(staged) }, () => inner.staged.discard(staged)),
    },
  };

  return {
    driver,
    inject(fault) {
      const entry = { fault, left: fault.times ?? Number.POSITIVE_INFINITY };
      faults.add(entry);
      return () => faults.delete(entry);
    },
    clear: () => faults.clear(),
  };
}
