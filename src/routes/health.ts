/**
 * `GET /healthz` (the process answers), `GET /readyz` (storage answers; says when it is full)
 * and `GET /metrics`.
 */
import type { BerthContext } from '../http/context.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { RegistryError } from '../registry/errors.js';
import type { Registry } from '../registry/registry.js';

const STORAGE_FULL = 'writes are refused for lack of space (507): pushes fail, pulls work';

/** Handlers of the operational endpoints. */
export function healthRoutes(registry: Registry, metrics: Metrics, logger: Logger) {
  return {
    async live(ctx: BerthContext): Promise<void> {
      ctx.body = { status: 'ok' };
    },

    async ready(ctx: BerthContext): Promise<void> {
      try {
        await registry.checkStorage();
      } catch (err) {
        logger.warn('readiness check failed', { error: err });
        throw new RegistryError('UNKNOWN', 'storage is not reachable', { status: 503 });
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
      ctx.body = await metrics.registry.metrics();
    },
  };
}
