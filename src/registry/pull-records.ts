/**
 * Pull records, for retention's `keep.pulledwithin`: when a tag was last pulled, as one small
 * object per tag (`_manifests/pulls/<tag>`). Pulls are many and the answer only needs to be
 * right to the hour, so each process writes a tag's record at most once per interval (an hour
 * by default), remembering its recent writes in a bounded map; a replica that restarts or
 * forgets a tag writes it once more, which is harmless. Writes happen in the background: a
 * pull never waits for one, nor fails because one did.
 */
import type { StorageDriver } from '../blobstore/driver.js';
import { pullRecordPath, pullRecordsPath } from '../blobstore/layout.js';
import type { Logger } from '../log/logger.js';
import { isValidTag, type RepositoryName, type Tag } from './names.js';

/** Recording pulls of tags. */
export interface PullRecorder {
  /** Notes a pull of a tag now; returns at once, writing (at most hourly) in the background. */
  record(name: RepositoryName, tag: Tag): void;
  /** Resolves once the writes started so far have finished (for tests). */
  settled(): Promise<void>;
}

/** Options of createPullRecorder. */
export interface PullRecorderOptions {
  driver: StorageDriver;
  /** Where failed writes are reported (at debug level). */
  logger?: Pick<Logger, 'debug'>;
  /** Milliseconds since the epoch; injected by tests. */
  now?: () => number;
  /** The least time between two writes of one tag's record, in ms (an hour). */
  intervalMs?: number;
  /** How many tags the process remembers writing; the oldest are forgotten first. */
  maxTags?: number;
  /** True while records should not be written (storage is full: a pull must not add a refusal). */
  paused?: () => boolean;
}

/** An hour: the precision `keep.pulledwithin` promises. */
export const PULL_RECORD_INTERVAL_MS = 3_600_000;

const DEFAULT_MAX_TAGS = 10_000;

/** Creates a pull recorder over a driver. */
export function createPullRecorder(options: PullRecorderOptions): PullRecorder {
  const { driver, logger } = options;
  const now = options.now ?? Date.now;
  const intervalMs = options.intervalMs ?? PULL_RECORD_INTERVAL_MS;
  const maxTags = options.maxTags ?? DEFAULT_MAX_TAGS;
  // Key -> when this process last wrote the record, oldest first (Map keeps insertion order).
  const written = new Map<string, number>();
  const inFlight = new Set<Promise<void>>();

  function due(key: string, at: number): boolean {
    const last = written.get(key);
    if (last !== undefined && at - last < intervalMs) return false;
    written.delete(key);
    written.set(key, at);
    if (written.size > maxTags) written.delete(written.keys().next().value as string);
    return true;
  }

  async function write(name: RepositoryName, tag: Tag, key: string, at: number): Promise<void> {
    try {
      await driver.putContent(pullRecordPath(name, tag), Buffer.from(new Date(at).toISOString()));
    } catch (err) {
      // Forgotten, so that the next pull tries again.
      if (written.get(key) === at) written.delete(key);
      logger?.debug('recording a pull failed', { name, tag, error: err });
    }
  }

  return {
    record(name, tag) {
      if (options.paused?.()) return;
      const at = now();
      const key = `${name}:${tag}`;
      if (!due(key, at)) return;
      const writing = write(name, tag, key, at);
      inFlight.add(writing);
      void writing.finally(() => inFlight.delete(writing));
    },

    async settled() {
      await Promise.all(inFlight);
    },
  };
}

/**
 * When each tag of a repository was last pulled (ms), from one listing: a record's time is
 * the object's, which a write sets.
 */
export async function readPullTimes(driver: StorageDriver, name: RepositoryName): Promise<Map<Tag, number>> {
  const root = pullRecordsPath(name);
  const times = new Map<Tag, number>();
  for await (const { path, modTime } of driver.scan(root)) {
    const tag = path.slice(root.length + 1);
    if (isValidTag(tag)) times.set(tag as Tag, modTime.getTime());
  }
  return times;
}
