/**
 * Periodic storage maintenance, off the request path: deleting upload sessions idle for
 * `storage.maintenance.uploadpurging.age`, and sweeping the storage driver's own leftovers
 * (temp files a crash left behind). The sweep also runs once at start-up, since a crash is
 * what leaves them and a restart usually follows one.
 */
import type { BerthConfig } from './config/schema.js';
import type { Logger } from './log/logger.js';
import type { Registry } from './registry/registry.js';

type PurgeConfig = BerthConfig['storage']['maintenance']['uploadpurging'];

/** Options of startMaintenance. */
export interface MaintenanceOptions {
  registry: Pick<Registry, 'purgeUploads'>;
  /** The driver's own cleanup, when it has one; resolves with how many leftovers it found. */
  sweepStorage?: (options: { dryRun: boolean }) => Promise<number>;
  purging: PurgeConfig;
  logger: Logger;
}

/** Sweeps now, then purges and sweeps every `interval` while purging is enabled; returns a stop function. */
export function startMaintenance({
  registry,
  sweepStorage,
  purging,
  logger,
}: MaintenanceOptions): () => void {
  const dryRun = purging.dryrun;
  const job = (name: string, work: () => Promise<number>, found: string) =>
    withoutOverlap(async () => {
      try {
        const count = await work();
        if (count > 0) logger.info(found, { count, dryrun: dryRun });
        logger.debug(`${name} finished`, { count });
      } catch (err) {
        logger.error(`${name} failed`, { error: err });
      }
    });
  const purge = job(
    'upload purge',
    () => registry.purgeUploads(new Date(Date.now() - purging.age), { dryRun }),
    'purged stale uploads',
  );
  const sweep = job(
    'temp file sweep',
    async () => (sweepStorage ? sweepStorage({ dryRun }) : 0),
    'removed stale temp files',
  );
  const run = async (withPurge: boolean) => {
    await Promise.all([withPurge ? purge() : undefined, sweep()]);
  };

  void run(false);
  if (!purging.enabled) return () => {};
  // A random first delay keeps replicas that start together from purging together.
  const first = setTimeout(() => run(true), Math.min(purging.interval, 60_000) * Math.random());
  const every = setInterval(() => run(true), purging.interval);
  first.unref();
  every.unref();
  return () => {
    clearTimeout(first);
    clearInterval(every);
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
