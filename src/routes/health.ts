/**
 * `GET /healthz` (the process answers), `GET /readyz` (storage answers; says when it is full,
 * and fails with 503 UNAVAILABLE while the store cannot be reached) and `GET /metrics`.
 */
import { isUnavailable } from '../blobstore/driver.js';
import type { BerthContext } from '../http/context.js';
import { OUTAGE_LOG_INTERVAL_MS } from '../http/errors.js';
import type { Logger } from '../log/logger.js';
import { throttledLog } from '../log/throttled.js';
import type { Metrics } from '../metrics/metrics.js';
import { RegistryError } from '../registry/errors.js';
import type { Registry } from '../registry/registry.js';

const STORAGE_FULL = 'writes are refused for lack of space (507): pushes fail, pulls work';

/** Handlers of the operational endpoints. */
export function healthRoutes(registry: Registry, metrics: Metrics, logger: Logger) {
  // Probes ask every few seconds: an outage is logged when it starts and then once a minute.
  const logUnavailable = throttledLog(logger.warn, { intervalMs: OUTAGE_LOG_INTERVAL_MS });
  let unavailableSince: Date | undefined;
  return {
    async live(ctx: BerthContext): Promise<void> {
      ctx.body = { status: 'ok' };
    },

    async ready(ctx: BerthContext): Promise<void> {
      try {
        await registry.checkStorage();
        unavailableSince = undefined;
      } catch (err) {
        if (!isUnavailable(err)) {
          logger.warn('readiness check failed', { error: err });
          throw new RegistryError('UNKNOWN', 'storage is not reachable', { status: 503 });
        }
        unavailableSince ??= new Date();
        logUnavailable('not ready: storage is unavailable', {
          since: unavailableSince.toISOString(),
          error: err,
        });
        throw new RegistryError('UNAVAILABLE', 'storage is unavailable', {
          detail: { storage: 'unavailable', since: unavailableSince.toISOString() },
        });
      }
      // Full storage still serves pulls, so the instance stays ready; the detail says why
      // pushes fail.
      const fullSince = registry.space.fullSince();
      ctx.body = fullSince
        ? { status: 'degraded', storage: 'full', full_since: fullSince.toISOString(), detail: STORAGE_FULL }
        : { status: 'ok' };
    },

    async metrics(ctx: BerthContext): Promise<void> {
      ctx.type = metrics.registry.contentType;
      ctx.body = await metrics.render();
    },
  };
}
