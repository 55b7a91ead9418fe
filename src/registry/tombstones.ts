/**
 * Tombstones: how garbage collection and the writes that create references agree, across
 * processes and without a database, on whether an object may go (docs/gc.md has the whole
 * argument). GC writes a `pending` tombstone for every object it means to delete, waits, and
 * then claims each one by rewriting it `deleting` on condition that it is still the version
 * it wrote. A write that created a reference to an object then looks for its tombstone: a
 * pending one it rewrites `revived` on the same condition, so of the two exactly one wins;
 * one that says the object is being or has been deleted makes the write fail cleanly, unless
 * the object exists again (re-pushed after the delete).
 *
 * Between runs the tombstone root is empty, so the common case costs one listing. Without a
 * tombstone, an object can only be gone if the GC run that deleted it also removed its
 * tombstone, which it does `deletedelay` after deleting: a write that took less than that
 * from its first write to the look cannot have missed it. A slower one asks storage whether
 * each object still exists.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { isPreconditionFailed, orMissing, type StorageDriver } from '../blobstore/driver.js';
import { TOMBSTONE_RUN_PATH, TOMBSTONES_ROOT, tombstonePath } from '../blobstore/layout.js';
import { RegistryError } from './errors.js';
import { forEachLimited, LOOKUPS_IN_FLIGHT } from './limited.js';

/** Where a tombstoned object stands. */
export type TombstoneState = 'pending' | 'revived' | 'deleting';

/** What a tombstone object holds. */
export interface TombstoneRecord {
  state: TombstoneState;
  /** The GC run that wrote it. */
  run: string;
}

/** What the run record holds: a run whose phase is `deleted` has deleted all it claimed. */
export interface RunRecord {
  run: string;
  phase: 'collecting' | 'deleted';
  /** Wall-clock ms when the run will have given up unless it renewed its lease: a dead run's record is void after. */
  until: number;
}

/** Options of createReferenceGuard. */
export interface ReferenceGuardOptions {
  driver: StorageDriver;
  /** `gc.deletedelay` in ms: how long GC keeps tombstones after deleting. */
  deleteDelayMs: number;
  /** `storage.cache.ttl` in ms: how old a fact a write relied on may have been when it began. */
  cacheTtlMs?: number;
  /** False only in the test that shows what the check prevents (BERTH_TEST_SKIP_TOMBSTONE_CHECK). */
  enabled?: boolean;
  /** A monotonic clock in ms. */
  monotonic?: () => number;
  /** Wall-clock ms, to tell a dead GC run's record. */
  now?: () => number;
}

/** The check every write that creates references makes after writing them. */
export interface ReferenceGuard {
  /**
   * Read this before the write looks at whether what it will reference exists (through the
   * cache or storage); pass it to `lost`.
   */
  begin(): number;
  /**
   * Which of `targets` (layout paths the write now references) GC has deleted, or is
   * deleting, so that the write must fail; pending tombstones of the others are revived.
   */
  lost(targets: readonly string[], begun: number): Promise<string[]>;
  /**
   * Throws 503 UNAVAILABLE once `gc.deletedelay − storage.cache.ttl` has passed since `begun`:
   * called right before writing a tag, so that a tag written for a manifest that GC may be
   * collecting is always seen by GC's second mark (docs/gc.md).
   */
  assertInTime(begun: number): void;
}

/**
 * `gc.deletedelay` unless configured: longer than any cache staleness (`storage.cache.ttl`)
 * plus any manifest push, so that pushes in flight when GC tombstones revive rather than fail.
 */
export const DEFAULT_GC_DELETE_DELAY_MS = 5 * 60_000;

/**
 * Set to 1, servers skip the tombstone check and `berth gc` deletes without marking again, so
 * pushes racing GC lose blobs: only the tests that show the protocol is needed set it (docs/gc.md).
 */
export const TOMBSTONE_CHECK_OFF_VARIABLE = 'BERTH_TEST_SKIP_TOMBSTONE_CHECK';

/** How long a write waits for a run that has claimed an object to finish deleting. */
const CLAIM_WAIT_MS = 3_000;
const CLAIM_POLL_MS = 100;

/** Creates the guard. */
export function createReferenceGuard(options: ReferenceGuardOptions): ReferenceGuard {
  const { driver, deleteDelayMs } = options;
  const monotonic = options.monotonic ?? (() => performance.now());
  const now = options.now ?? Date.now;

  const exists = async (target: string) => (await orMissing(driver.stat(target), undefined)) !== undefined;

  /** True when a run that claimed objects is done deleting them, or dead. */
  async function claimSettled(run: string): Promise<boolean> {
    const record = parseRecord<RunRecord>(await orMissing(driver.getContent(TOMBSTONE_RUN_PATH), undefined));
    return !record || record.run !== run || record.phase === 'deleted' || record.until < now();
  }

  /**
   * True once too long has passed since `begun` for a missing tombstone to prove anything:
   * asked after each read, since waiting for a claim to settle takes time too.
   */
  const tooSlow = (begun: number) => monotonic() - begun + (options.cacheTtlMs ?? 0) >= deleteDelayMs;

  async function isLost(target: string, begun: number): Promise<boolean> {
    const path = tombstonePath(target);
    const deadline = monotonic() + CLAIM_WAIT_MS;
    for (;;) {
      const stone = await orMissing(driver.getVersioned(path), undefined);
      const record = stone && parseRecord<TombstoneRecord>(stone.content);
      if (!stone || !record) return tooSlow(begun) && !(await exists(target));
      if (record.state === 'revived') return false;
      if (record.state === 'pending') {
        const revived: TombstoneRecord = { ...record, state: 'revived' };
        try {
          await driver.putContent(path, encodeRecord(revived), { ifMatch: stone.version });
          return false;
        } catch (err) {
          if (!isPreconditionFailed(err)) throw err;
          continue; // GC claimed it in between: look again.
        }
      }
      if (await claimSettled(record.run)) return !(await exists(target));
      if (monotonic() > deadline) return true;
      await sleep(CLAIM_POLL_MS);
    }
  }

  return {
    begin: monotonic,

    assertInTime(begun) {
      if (options.enabled === false || !tooSlow(begun)) return;
      throw new RegistryError(
        'UNAVAILABLE',
        'the push took too long to be sure its manifest is kept; push it again',
        {
          status: 503,
          detail: { limit: 'gc.deletedelay minus storage.cache.ttl' },
        },
      );
    },

    async lost(targets, begun) {
      if (options.enabled === false || targets.length === 0) return [];
      const anyStone = (await orMissing(driver.list(TOMBSTONES_ROOT, { limit: 1 }), [])).length > 0;
      if (!anyStone && !tooSlow(begun)) return [];
      const unique = [...new Set(targets)];
      const verdicts = new Array<boolean>(unique.length);
      await forEachLimited(unique, LOOKUPS_IN_FLIGHT, async (target, i) => {
        verdicts[i] = await isLost(target, begun);
      });
      return unique.filter((_, i) => verdicts[i]);
    },
  };
}

/** A tombstone or run record as stored. */
export function encodeRecord(record: TombstoneRecord | RunRecord): Buffer {
  return Buffer.from(JSON.stringify(record));
}

/** The record in an object, or undefined when it is not one (a torn or foreign object). */
export function parseRecord<T extends TombstoneRecord | RunRecord>(
  content: Buffer | undefined,
): T | undefined {
  if (!content) return undefined;
  try {
    const value = JSON.parse(content.toString('utf8')) as Partial<T>;
    return typeof value.run === 'string' ? (value as T) : undefined;
  } catch {
    return undefined;
  }
}
