/**
 * Periodic storage maintenance, off the request path: deleting upload sessions idle for
 * `storage.maintenance.uploadpurging.age`, and sweeping the storage driver's own leftovers
 * (temp files a crash left behind). The sweep also runs once at start-up, since a crash is
 * what leaves them and a restart usually follows one.
 *
 * Replicas and workers share one store, so each job runs under a lease on it (lease.ts): of
 * the processes due to run a job, the one that takes the lease runs it and the others skip
 * that run. Both jobs stay harmless when run twice at once (on a store without conditional
 * writes the lease is best effort), so the lease saves work rather than guarding data.
 */
import type { StorageDriver } from './blobstore/driver.js';
import type { BerthConfig } from './config/schema.js';
import type { Logger } from './log/logger.js';
import { LEASE_TTL_MS, withLease } from './registry/lease.js';
import type { Registry } from './registry/registry.js';

type PurgeConfig = BerthConfig['storage']['maintenance']['uploadpurging'];

/** Options of startMaintenance. */
export interface MaintenanceOptions {
  registry: Pick<Registry, 'purgeUploads'>;
  /** The driver's own cleanup, when it has one; resolves with how many leftovers it found. */
  sweepStorage?: (options: { dryRun: boolean }) => Promise<number>;
  purging: PurgeConfig;
  logger: Logger;
  /** The store the jobs' leases live in. */
  leases: StorageDriver;
}

export { LEASE_TTL_MS } from './registry/lease.js';

/** The lease every upload purge run takes, in a server or `berth purge`. */
export const UPLOAD_PURGE_LEASE = 'upload-purge';

/**
 * Stops the timers and waits for a run in progress, at most `waitMs` (a purge of a large store
 * may take long; if it is cut short its lease runs out and another process takes over).
 */
export type StopMaintenance = (waitMs: number) => Promise<void>;

/** Sweeps now, then purges and sweeps every `interval` while purging is enabled. */
export function startMaintenance({
  registry,
  sweepStorage,
  purging,
  logger,
  leases,
}: MaintenanceOptions): StopMaintenance {
  const dryRun = purging.dryrun;
  const job = (name: string, lease: string, work: () => Promise<number>, found: string) =>
    withoutOverlap(async () => {
      try {
        const outcome = await withLease(leases, lease, leaseOptions(name, logger), work);
        if (!outcome.ran) {
          logger.debug(`${name} skipped: another process runs it`, {
            holder: outcome.heldBy.holder,
            until: new Date(outcome.heldBy.until).toISOString(),
          });
          return;
        }
        if (outcome.value > 0) logger.info(found, { count: outcome.value, dryrun: dryRun });
        logger.debug(`${name} finished`, { count: outcome.value });
      } catch (err) {
        logger.error(`${name} failed`, { error: err });
      }
    });
  const purge = job(
    'upload purge',
    UPLOAD_PURGE_LEASE,
    () => registry.purgeUploads(new Date(Date.now() - purging.age), { dryRun }),
    'purged stale uploads',
  );
  const sweep = job(
    'temp file sweep',
    'temp-file-sweep',
    async () => (sweepStorage ? sweepStorage({ dryRun }) : 0),
    'removed stale temp files',
  );
  const running = new Set<Promise<unknown>>();
  const run = (withPurge: boolean) => {
    const both = Promise.all([withPurge ? purge() : undefined, sweep()]);
    running.add(both);
    void both.finally(() => running.delete(both));
  };

  run(false);
  const timers: NodeJS.Timeout[] = [];
  if (purging.enabled) {
    // A random first delay keeps replicas that start together from purging together.
    timers.push(setTimeout(() => run(true), Math.min(purging.interval, 60_000) * Math.random()));
    timers.push(setInterval(() => run(true), purging.interval));
    for (const timer of timers) timer.unref();
  }
  return async (waitMs) => {
    for (const timer of timers) clearInterval(timer);
    let timeout: NodeJS.Timeout | undefined;
    const waited = new Promise((resolve) => {
      timeout = setTimeout(resolve, waitMs);
    });
    await Promise.race([Promise.all(running), waited]);
    clearTimeout(timeout);
  };
}

function leaseOptions(name: string, logger: Logger) {
  return {
    ttlMs: LEASE_TTL_MS,
    // The run goes on: both jobs are safe to run twice, and stopping halfway saves nothing.
    onRenewalFailure: (err: unknown) => logger.warn(`${name}: renewing its lease failed`, { error: err }),
  };
}

/** A job that, called while its previous run is still going (a large store), skips. */
function withoutOverlap(job: () => Promise<void>): () => Promise<void> {
  let running = false;
  return async () => {
    if (running) return;
    running = true;
    try {
      await job();
    } finally {
      running = false;
    }
  };
}
