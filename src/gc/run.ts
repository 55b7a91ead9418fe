/**
 * A GC run under the GC lease, as `berth gc` and the servers' schedule (`gc.interval`) start
 * it: of the processes that try at once, one collects and the others learn who does.
 */
import type { StorageDriver } from '../blobstore/driver.js';
import type { BerthConfig } from '../config/schema.js';
import { LEASE_TTL_MS, type LeaseOutcome, withLease } from '../registry/lease.js';
import type { RetentionRule } from '../retention/rules.js';
import { collectGarbage } from './collect.js';
import type { GcReport, Phase } from './report.js';
import { untaggedPolicyOf } from './untagged-policy.js';

/** The lease of garbage collection: one run at a time on a store. */
export const GC_LEASE = 'gc';

/** Options of runCollection. */
export interface RunOptions {
  driver: StorageDriver;
  gc: BerthConfig['gc'];
  /** `retention.rules`: their `untagged` ages let GC delete untagged manifests. */
  retention?: readonly RetentionRule[];
  dryRun?: boolean;
  onProgress?: (phase: Phase, done: number, total: number) => void;
  /** False only for the test that shows what the protocol prevents. */
  recheck?: boolean;
  /** Aborts the run (a server stopping). */
  signal?: AbortSignal;
}

/** Collects garbage once unless another process holds the GC lease. */
export function runCollection(options: RunOptions): Promise<LeaseOutcome<GcReport>> {
  const { driver, gc } = options;
  return withLease(driver, GC_LEASE, { ttlMs: LEASE_TTL_MS }, (lease) =>
    collectGarbage({
      driver,
      gracePeriodMs: gc.graceperiod,
      deleteDelayMs: gc.deletedelay,
      leaseTtlMs: LEASE_TTL_MS,
      untagged: untaggedPolicyOf(options.retention ?? []),
      signal: options.signal ? AbortSignal.any([lease.signal, options.signal]) : lease.signal,
      ...(options.dryRun ? { dryRun: true } : {}),
      ...(options.recheck === false ? { recheck: false } : {}),
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    }),
  );
}
