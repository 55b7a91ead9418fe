/** Feeds every finished request into the Prometheus metrics. */
import type { Next } from 'koa';
import type { Metrics } from '../metrics/metrics.js';
import { type BerthContext, onResponseDone } from './context.js';

/** Middleware: records count, duration and bytes per route template and status. */
export function requestMetrics(metrics: Metrics) {
  return async (ctx: BerthContext, next: Next): Promise<void> => {
    onResponseDone(ctx, (outcome) => {
      metrics.observeRequest({
        method: ctx.method,
        route: outcome.route,
        status: outcome.status,
        seconds: outcome.seconds,
        bytesIn: ctx.state.bytesIn,
        bytesOut: outcome.bytesOut,
      });
    });
    await next();
  };
}
