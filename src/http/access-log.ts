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

/** Middleware: logs method, path, query, status, bytes, duration and request id of every request. */
export function accessLog({ logger, disabled }: AccessLogOptions) {
  return async (ctx: BerthContext, next: Next): Promise<void> => {
    if (!disabled) {
      onResponseDone(ctx, (outcome) => {
        logger.info('request', {
          method: ctx.method,
          path: ctx.path,
          query: loggedQuery(ctx.path, ctx.querystring),
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

/** Longest query kept in a log line; anything longer is cut and marked. */
const MAX_QUERY_LENGTH = 1024;

/**
 * Names of parameters whose values are credentials wherever they turn up: OAuth fields, API
 * keys, signed-URL signatures (S3's X-Amz-Signature and -Credential, Azure's sig).
 */
const SECRET_PARAMETER = /pass|secret|token|key|sig|credential|auth|session/i;

/**
 * The query string as it goes into the log: undefined when there is none, and for the token
 * endpoint, whose requests are about credentials. Values of credential-like parameters are
 * replaced; the rest stay as the client sent them, so a mount's `mount` and `from` show.
 */
function loggedQuery(path: string, querystring: string): string | undefined {
  if (querystring === '' || path.startsWith('/auth/')) return undefined;
  const query = querystring
    .split('&')
    .map((pair) => {
      const equals = pair.indexOf('=');
      const name = equals < 0 ? pair : pair.slice(0, equals);
      return equals >= 0 && SECRET_PARAMETER.test(decodeName(name)) ? `${name}=[redacted]` : pair;
    })
    .join('&');
  return query.length > MAX_QUERY_LENGTH ? `${query.slice(0, MAX_QUERY_LENGTH)}…` : query;
}

function decodeName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return name;
  }
}
