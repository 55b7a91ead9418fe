/**
 * `berth purge`: deletes upload sessions idle for `storage.maintenance.uploadpurging.age`
 * (staged bytes first, then the session), once, against the store the configuration names.
 * For a scheduled job (a Kubernetes CronJob) instead of a timer in every replica. It takes the
 * same lease on the store as the servers' own purge runs, so it never runs alongside one.
 */
import { LEASE_TTL_MS, UPLOAD_PURGE_LEASE } from '../maintenance.js';
import { withLease } from '../registry/lease.js';
import { purgeIdleUploads } from '../registry/upload-purge.js';
import { openConfiguredStore } from './configured-store.js';
import { durationFlag, parseFlags } from './flags.js';
import { groupNamed, groupUsage } from './help.js';
import type { CliIo } from './io.js';

interface PurgeFlags {
  config: string | undefined;
  dryRun: boolean;
  /** Milliseconds; undefined for the configured age. */
  age: number | undefined;
}

/** Runs `berth purge`; resolves with the exit code. */
export async function purgeCommand(args: string[], io: CliIo): Promise<number> {
  const flags = purgeFlags(args);
  const { config, driver: storage } = await openConfiguredStore(flags.config, io);
  const age = flags.age ?? config.storage.maintenance.uploadpurging.age;
  const cutoff = new Date(io.now() - age);
  const outcome = await withLease(storage, UPLOAD_PURGE_LEASE, { ttlMs: LEASE_TTL_MS }, () =>
    purgeIdleUploads(storage, cutoff, { dryRun: flags.dryRun }),
  );
  if (!outcome.ran) {
    io.stdout.write(
      `skipped: ${outcome.heldBy.holder} is purging this store (lease until ${new Date(outcome.heldBy.until).toISOString()})\n`,
    );
    return 0;
  }
  const verb = flags.dryRun ? 'would delete' : 'deleted';
  io.stdout.write(`${verb} ${outcome.value} upload session(s) idle since before ${cutoff.toISOString()}\n`);
  return 0;
}

function purgeFlags(args: string[]): PurgeFlags {
  const usage = groupUsage(groupNamed('purge'));
  const flags = parseFlags(
    'purge',
    args,
    { '--config': 'value', '--dry-run': 'switch', '--age': 'value' },
    usage,
    { '-c': '--config' },
  );
  const age = flags['--age'];
  return {
    config: flags['--config'] as string | undefined,
    dryRun: flags['--dry-run'] === true,
    age: typeof age === 'string' ? durationFlag('--age', age, usage) : undefined,
  };
}
