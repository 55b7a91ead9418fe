/**
 * A retention run: every repository of the catalog under the first rule that matches it, one
 * run at a time per store (the lease `retention`), as `berth retention` and the servers'
 * schedule (`retention.interval`) start it.
 */
import type { StorageDriver } from '../blobstore/driver.js';
import { type Inventory, takeInventory } from '../gc/inventory.js';
import { catalogPage } from '../registry/catalog.js';
import { type ImmutableTagRule, immutableTags } from '../registry/immutable-tags.js';
import { LEASE_TTL_MS, type LeaseOutcome, withLease } from '../registry/lease.js';
import type { RepositoryName } from '../registry/names.js';
import { createTagHistory } from '../registry/tag-history.js';
import { type RetentionItem, retainRepository } from './repository.js';
import { type RetentionRule, retentionRules } from './rules.js';

/** The lease of retention runs. */
export const RETENTION_LEASE = 'retention';

/** What a run did, or with `dryRun` would do. */
export interface RetentionReport {
  dryRun: boolean;
  started: string;
  finished: string;
  /** Repositories a rule applied to. */
  repositories: number;
  items: RetentionItem[];
  /** Tags left alone because they moved while the run decided. */
  raced: number;
}

/** Options of a run. */
export interface RetentionOptions {
  driver: StorageDriver;
  rules: readonly RetentionRule[];
  /** `tags.immutable`: retention never deletes those tags. */
  immutable: readonly ImmutableTagRule[];
  dryRun?: boolean;
  /** Milliseconds since the epoch; tests pass their own clock. */
  now?: () => number;
  /** Aborts between repositories (a server stopping, the lease lost). */
  signal?: AbortSignal;
}

/** Applies the rules once unless another process holds the retention lease. */
export function runRetention(options: RetentionOptions): Promise<LeaseOutcome<RetentionReport>> {
  return withLease(options.driver, RETENTION_LEASE, { ttlMs: LEASE_TTL_MS }, (lease) =>
    applyRetention({
      ...options,
      signal: options.signal ? AbortSignal.any([lease.signal, options.signal]) : lease.signal,
    }),
  );
}

/** Applies the rules once, without the lease. */
export async function applyRetention(options: RetentionOptions): Promise<RetentionReport> {
  const { driver, signal } = options;
  const clock = options.now ?? Date.now;
  const started = clock();
  const ruleFor = retentionRules(options.rules);
  let inventory: Promise<Inventory> | undefined;
  const report: RetentionReport = {
    dryRun: options.dryRun === true,
    started: new Date(started).toISOString(),
    finished: '',
    repositories: 0,
    items: [],
    raced: 0,
  };
  const context = {
    driver,
    history: createTagHistory(driver, clock),
    immutable: immutableTags(options.immutable),
    now: started,
    dryRun: report.dryRun,
    inventory: () => {
      inventory ??= takeInventory(driver);
      return inventory;
    },
    onRaced: () => {
      report.raced++;
    },
  };
  for await (const name of repositories(driver)) {
    signal?.throwIfAborted();
    const compiled = ruleFor(name);
    if (!compiled) continue;
    report.repositories++;
    report.items.push(...(await retainRepository(name, compiled, context)));
  }
  report.finished = new Date(clock()).toISOString();
  return report;
}

/** Every repository of the catalog, a page at a time. */
async function* repositories(driver: StorageDriver): AsyncIterable<RepositoryName> {
  let last: string | undefined;
  for (;;) {
    const page = await catalogPage(driver, { size: 1000, ...(last ? { last } : {}) }, () => true);
    yield* page.items;
    last = page.items.at(-1);
    if (!page.more || last === undefined) return;
  }
}

/** How many tags, history entries and manifests a report names. */
export function countsOf(report: RetentionReport): Record<RetentionItem['kind'], number> {
  const counts = { tag: 0, history: 0, manifest: 0 };
  for (const item of report.items) counts[item.kind] += item.count ?? 1;
  return counts;
}
