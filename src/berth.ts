/**
 * Starting Berth from a validated configuration: storage driver, registry, HTTP app and
 * server, and storage maintenance (upload purging, temp file sweeping). The CLI and the tests
 * both start Berth through here.
 */

import { createApp } from './app.js';
import { createAuth } from './auth/setup.js';
import { checkedDriver } from './blobstore/checked.js';
import { createConfiguredDriver } from './blobstore/create-driver.js';
import type { StorageDriver } from './blobstore/driver.js';
import { sweepStaleTempFiles } from './blobstore/temp-files.js';
import type { BerthConfig } from './config/schema.js';
import { scheduleCollection } from './gc/schedule.js';
import type { Fields, Logger } from './log/logger.js';
import { startMaintenance } from './maintenance.js';
import { createMetrics, type Metrics } from './metrics/metrics.js';
import { migrateCatalog } from './registry/catalog-migration.js';
import { createRegistry, type Registry } from './registry/registry.js';
import { TOMBSTONE_CHECK_OFF_VARIABLE } from './registry/tombstones.js';
import { retentionRules } from './retention/rules.js';
import { scheduleRetention } from './retention/schedule.js';
import { startMemoryGovernor } from './runtime/memory-governor.js';
import { type RunningServer, startServer } from './server.js';

/** A running Berth instance, as tests and the CLI hold it. */
export interface BerthInstance {
  server: RunningServer;
  registry: Registry;
  driver: StorageDriver;
  metrics: Metrics;
  /** Re-reads the auth policy and htpasswd files (on SIGHUP). */
  reloadAuth(): Promise<void>;
  /** Graceful stop: drains requests within `http.draintimeout`. */
  stop(): Promise<void>;
}

/** What a cluster worker changes about how Berth starts (src/cluster.ts). */
export interface StartOptions {
  /** The metrics to report to; a worker's /metrics answers for the whole cluster. */
  metrics?: Metrics;
  /** Takes the "listening" line instead of the log; a worker hands it to the primary. */
  announce?: (message: string, fields: Fields) => void;
  /** Wraps the storage driver: tests inject faults and delays this way. */
  wrapDriver?: (driver: StorageDriver) => StorageDriver;
}

/**
 * Starts Berth from an already-loaded configuration. A storage root or auth file that cannot
 * be used rejects with a ConfigError naming the key; an address that cannot be listened on
 * with a ListenError.
 */
export async function startBerth(
  config: BerthConfig,
  logger: Logger,
  options: StartOptions = {},
): Promise<BerthInstance> {
  const metrics = options.metrics ?? createMetrics();
  const storage = await createConfiguredDriver(config.storage);
  const root = storage.localRoot;
  const checked = checkedDriver(storage.driver, metrics.observeStorage);
  const driver = options.wrapDriver ? options.wrapDriver(checked) : checked;
  await migrateCatalog(driver, logger);
  const tombstoneCheck = process.env[TOMBSTONE_CHECK_OFF_VARIABLE] !== '1';
  if (!tombstoneCheck)
    logger.warn(`${TOMBSTONE_CHECK_OFF_VARIABLE}=1: pushes racing garbage collection may lose blobs`);
  const retentionRule = retentionRules(config.retention.rules);
  const registry = createRegistry({
    gcDeleteDelay: config.gc.deletedelay,
    tombstoneCheck,
    collectsUntagged: (name) => retentionRule(name)?.rule.untagged !== undefined,
    driver,
    deleteEnabled: config.storage.delete.enabled,
    cache: config.storage.cache.blobdescriptor,
    cacheTtl: config.storage.cache.ttl,
    cacheMaxMemory: config.storage.cache.maxmemory,
    manifestLimits: { maxDescriptors: config.validation.manifests.maxdescriptors },
    immutableTags: config.tags.immutable,
    logger,
    onTransfer: metrics.uploadTransfer,
    storageFull: {
      onRefused: metrics.storageFullRefusal,
      onReport: ({ refused, since }) =>
        logger.error('storage is full: writes are refused, pushes fail, pulls still work', {
          refused,
          since: since.toISOString(),
        }),
    },
  });
  const auth = await createAuth(config.auth, driver, logger, metrics.observeAuth);
  const app = createApp({ registry, logger, metrics, auth, config });
  const server = await startServer(app, config.http.addr, {
    headerTimeoutMs: config.http.headertimeout,
  }).catch((err: unknown) => {
    auth.close();
    throw err;
  });
  const stopMaintenance = startMaintenance({
    registry,
    ...(root !== undefined ? { sweepStorage: (options) => sweepStaleTempFiles(root, options) } : {}),
    purging: config.storage.maintenance.uploadpurging,
    logger,
    leases: driver,
  });
  const stopGovernor = startMemoryGovernor();
  const stopCollecting = scheduleCollection({
    driver,
    gc: config.gc,
    retention: config.retention.rules,
    logger,
    metrics,
  });
  const stopRetention = scheduleRetention({ driver, config, logger, metrics });
  const announce = options.announce ?? logger.info;
  announce(`berth listening on ${server.url}, storing data in ${storage.location} (${storage.driver.name})`, {
    addr: server.url,
    storage: storage.driver.name,
    location: storage.location,
    conditionalwrites: storage.driver.conditionalWrites,
    auth: config.auth.mode,
  });
  return {
    server,
    registry,
    driver,
    metrics,
    reloadAuth: auth.reload,
    async stop() {
      const maintenanceStopped = stopMaintenance(config.http.draintimeout);
      const collectionStopped = stopCollecting();
      const retentionStopped = stopRetention();
      stopGovernor();
      auth.close();
      await server.close(config.http.draintimeout);
      // Pull records are written after their request answered: a stop finishes them too.
      await registry.pulls.settled();
      await maintenanceStopped;
      await collectionStopped;
      await retentionStopped;
    },
  };
}
