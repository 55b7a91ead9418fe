/** `GET /healthz` (the process answers), `GET /readyz` (storage answers) and `GET /metrics`. */
import type { BerthContext } from '../http/context.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { RegistryError } from '../registry/errors.js';
import type { Registry } from '../registry/registry.js';

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
      ctx.body = { status: 'ok' };
    },

    async metrics(ctx: BerthContext): Promise<void> {
      ctx.type = metrics.registry.contentType;
      ctx.body = await metrics.registry.metrics();
    },
  };
}
