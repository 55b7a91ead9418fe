/**
 * Berth's HTTP app over a driver the test built (wrapped to count, delay or fail storage
 * calls), without auth, listening on a free loopback port.
 */
import { createApp } from '../../src/app.js';
import { OPEN_AUTHORIZER } from '../../src/auth/authorizer.js';
import type { StorageDriver } from '../../src/blobstore/driver.js';
import { buildConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log/logger.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { createRegistry } from '../../src/registry/registry.js';
import { type RunningServer, startServer } from '../../src/server.js';

/** Starts the app over `driver` with deletes on and the in-memory cache. */
export async function startServerOver(driver: StorageDriver): Promise<RunningServer> {
  const registry = createRegistry({
    driver,
    deleteEnabled: true,
    cache: 'inmemory',
    manifestLimits: { maxDescriptors: 10_000 },
  });
  const app = createApp({
    registry,
    logger: createLogger({ level: 'error', formatter: 'json', write: () => {} }),
    metrics: createMetrics(),
    auth: { authorizer: OPEN_AUTHORIZER, tokenService: undefined },
    config: buildConfig({}, {}, 'test').config,
  });
  return startServer(app, '127.0.0.1:0');
}
