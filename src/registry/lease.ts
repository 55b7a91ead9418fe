/**
 * A lease on storage: which process runs a periodic job (the upload purge) right now, so that
 * replicas and workers sharing one store take turns instead of all running it. The lease is the
 * object `/leases/<name>` holding `{holder, until}`. It is taken with a conditional write,
 * `ifNoneMatch: '*'` when there is none and `ifMatch` the version read when it has expired, so
 * of two processes racing for it exactly one wins; it is renewed while the job runs and given
 * back at the end by writing it expired (conditional deletes are not in the driver interface).
 *
 * `until` is the holder's wall clock: clocks of replicas must agree to well within the TTL (NTP
 * does). On a store that ignores conditions (`driver.conditionalWrites` false) the lease is best
 * effort: a write is read back to see who won, which narrows the race but cannot close it, so
 * a job run under a lease must stay harmless when two processes run it at once.
 */

import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  isPreconditionFailed,
  orMissing,
  type StorageDriver,
  type VersionedContent,
  type WriteCondition,
} from '../blobstore/driver.js';
import { leasePath } from '../blobstore/layout.js';

/** What the lease object holds. */
export interface LeaseRecord {
  /** Who holds it: host, process and a random part, unique per process. */
  holder: string;
  /** Until when, in milliseconds since the epoch; past it anyone may take the lease. */
  until: number;
}

/** Options of withLease. */
export interface LeaseOptions {
  /** How long the lease lasts unless renewed; it is renewed every third of that. */
  ttlMs: number;
  /** Who asks; defaults to this process (see LeaseRecord.holder). */
  holder?: string;
  /** Milliseconds since the epoch; tests pass their own clock. */
  now?: () => number;
  /** Told when a renewal fails (the store is down, or the lease was taken over). */
  onRenewalFailure?: (err: unknown) => void;
}

/** The lease as the job holding it sees it. */
export interface HeldLease {
  /** Aborted when the lease is lost: taken over by another holder after it was not renewed. */
  readonly signal: AbortSignal;
}

/** What withLease did: ran the job, or found the lease held by someone else. */
export type LeaseOutcome<T> = { ran: true; value: T } | { ran: false; heldBy: LeaseRecord };

/**
 * How long a job's lease lasts unless renewed (every third of it while the job runs): how long
 * the jobs stop after a process dies holding one.
 */
export const LEASE_TTL_MS = 60_000;

const THIS_PROCESS = `${hostname()}/${process.pid}/${randomUUID().slice(0, 8)}`;

/**
 * Runs `work` while holding the lease `name` and gives the lease back after, or, when someone
 * else holds it, resolves at once without running `work`. Errors of `work` are rethrown after
 * the lease is given back; errors reading or writing the lease reject without running it.
 */
export async function withLease<T>(
  driver: StorageDriver,
  name: string,
  options: LeaseOptions,
  work: (lease: HeldLease) => Promise<T>,
): Promise<LeaseOutcome<T>> {
  const claim = {
    path: leasePath(name),
    holder: options.holder ?? THIS_PROCESS,
    now: options.now ?? Date.now,
  };
  const taken = await acquire(driver, claim, options.ttlMs);
  if ('heldBy' in taken) return { ran: false, heldBy: taken.heldBy };
  const held = keepRenewed(driver, claim, options, taken.version);
  try {
    return { ran: true, value: await work({ signal: held.signal }) };
  } finally {
    await held.release();
  }
}

interface Claim {
  path: string;
  holder: string;
  now: () => number;
}

type Acquired = { version: string } | { heldBy: LeaseRecord };

async function acquire(driver: StorageDriver, claim: Claim, ttlMs: number): Promise<Acquired> {
  const current = await orMissing(driver.getVersioned(claim.path), undefined);
  const record = current && parseLease(current.content);
  if (record && record.holder !== claim.holder && record.until > claim.now()) return { heldBy: record };
  const condition: WriteCondition = current ? { ifMatch: current.version } : { ifNoneMatch: '*' };
  try {
    const version = await driver.putContent(claim.path, encodeLease(claim, ttlMs), condition);
    return driver.conditionalWrites ? { version } : readBack(driver, claim);
  } catch (err) {
    if (!isPreconditionFailed(err)) throw err;
    // Another process wrote the lease between our read and our write: it won.
    return {
      heldBy: (await readLease(driver, claim.path)) ?? { holder: 'unknown', until: claim.now() + ttlMs },
    };
  }
}

/** Without enforced conditions, the last of two racing writes wins: whoever reads itself back. */
async function readBack(driver: StorageDriver, claim: Claim): Promise<Acquired> {
  const stored = await driver.getVersioned(claim.path);
  const record = parseLease(stored.content);
  if (record?.holder === claim.holder) return { version: stored.version };
  return { heldBy: record ?? { holder: 'unknown', until: 0 } };
}

/** Renews the lease every third of its TTL until released; aborts `signal` once it is lost. */
function keepRenewed(driver: StorageDriver, claim: Claim, options: LeaseOptions, acquired: string) {
  const lost = new AbortController();
  let version = acquired;
  let until = claim.now() + options.ttlMs;
  let renewing: Promise<void> = Promise.resolve();
  const renew = async () => {
    try {
      version = await driver.putContent(claim.path, encodeLease(claim, options.ttlMs), { ifMatch: version });
      until = claim.now() + options.ttlMs;
    } catch (err) {
      options.onRenewalFailure?.(err);
      // A refused condition means another holder took the lease; a store that is down only
      // costs the lease once it has run out.
      if (isPreconditionFailed(err) || claim.now() >= until) lost.abort(err);
    }
  };
  const timer = setInterval(() => {
    if (!lost.signal.aborted) renewing = renewing.then(renew);
  }, options.ttlMs / 3);
  timer.unref();
  return {
    signal: lost.signal,
    async release() {
      clearInterval(timer);
      await renewing;
      // Whoever took the lease meanwhile keeps it; a store that is down lets it run out instead.
      if (!lost.signal.aborted) await giveBack(driver, claim, version).catch(() => {});
    },
  };
}

/** Writes the lease expired, so the next run anywhere takes it without waiting for its TTL. */
async function giveBack(driver: StorageDriver, claim: Claim, version: string): Promise<void> {
  if (!driver.conditionalWrites && (await readLease(driver, claim.path))?.holder !== claim.holder) return;
  const expired: LeaseRecord = { holder: claim.holder, until: 0 };
  await driver.putContent(claim.path, Buffer.from(JSON.stringify(expired)), { ifMatch: version });
}

function encodeLease(claim: Claim, ttlMs: number): Buffer {
  return Buffer.from(
    JSON.stringify({ holder: claim.holder, until: claim.now() + ttlMs } satisfies LeaseRecord),
  );
}

async function readLease(driver: StorageDriver, path: string): Promise<LeaseRecord | undefined> {
  const stored: VersionedContent | undefined = await orMissing(driver.getVersioned(path), undefined);
  return stored && parseLease(stored.content);
}

/** The record in a lease object, or undefined for one that is not a lease (taken over as expired). */
export function parseLease(content: Buffer): LeaseRecord | undefined {
  try {
    const value = JSON.parse(content.toString('utf8')) as Partial<LeaseRecord>;
    if (typeof value.holder === 'string' && typeof value.until === 'number') {
      return { holder: value.holder, until: value.until };
    }
  } catch {
    // Not JSON: a torn or foreign object, which nobody holds.
  }
  return undefined;
}
