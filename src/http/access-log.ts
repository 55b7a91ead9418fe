/** One structured log line per request, written when the response is done. */
import type { Next } from 'koa';
import type { Logger } from '../log/logger.js';
import { type BerthContext, onResponseDone } from './context.js';

/** Options of accessLog. */
export interface AccessLogOptions {
  logger: Logger;
  /** `log.accesslog.disabled`. */
  disabled: boolean;
}

/** Middleware: logs method, path, status, bytes, duration and request id of every request. */
export function accessLog({ logger, disabled }: AccessLogOptions) {
  return async (ctx: BerthContext, next: Next): Promise<void> => {
    if (!disabled) {
      onResponseDone(ctx, (outcome) => {
        logger.info('request', {
          method: ctx.method,
          path: ctx.path,
          route: outcome.route,
          status: outcome.status,
          bytes_in: ctx.state.bytesIn,
          bytes_out: outcome.bytesOut,
          duration_ms: Math.round(outcome.seconds * 1e6) / 1e3,
          request_id: ctx.state.requestId,
          user: ctx.state.caller?.subject || undefined,
          remote: ctx.ip,
          user_agent: ctx.get('User-Agent') || undefined,
          ...(outcome.aborted ? { aborted: true } : {}),
        });
      });
    }
    await next();
  };
}
