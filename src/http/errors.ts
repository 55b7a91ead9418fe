/**
 * The one place errors become responses: a RegistryError is rendered as OCI error JSON with
 * its status and headers; a client disconnect is mapped to a code; a store that cannot be
 * reached is 503 UNAVAILABLE; anything else is a 500 whose details go to the log, not to the
 * client.
 *
 * A PreconditionFailedError that reaches this far is a race between two writers (requests,
 * workers or replicas) that the registry layer did not expect: it is answered 503 UNAVAILABLE
 * with `Retry-After: 1` rather than 409, since the client did nothing wrong and the same request
 * again will meet the data the other writer left and succeed.
 */
import type { Next } from 'koa';
import { isPreconditionFailed, isUnavailable } from '../blobstore/driver.js';
import type { Logger } from '../log/logger.js';
import { throttledLog } from '../log/throttled.js';
import { isRegistryError, RegistryError } from '../registry/errors.js';
import type { BerthContext } from './context.js';

/** Headers kept on error responses; everything else a handler set is dropped. */
const KEPT_HEADERS = ['x-request-id'];

/** How often at most an outage or a lost race is logged: each request that meets it is not news. */
export const OUTAGE_LOG_INTERVAL_MS = 60_000;

/** Seconds a client is asked to wait (`Retry-After`) while storage is unavailable. */
export const UNAVAILABLE_RETRY_AFTER = 5;

/** The answer to any request that needed a store that cannot be reached. */
export function storageUnavailable(): RegistryError {
  return new RegistryError('UNAVAILABLE', 'storage is unavailable for now; retry later', {
    headers: { 'Retry-After': String(UNAVAILABLE_RETRY_AFTER) },
  });
}

/** Middleware: catches everything below it and renders it; `now` is for tests of the log throttle. */
export function errorHandler(logger: Logger, now: () => number = Date.now) {
  const throttle = { intervalMs: OUTAGE_LOG_INTERVAL_MS, now };
  const logOutage = throttledLog(logger.error, throttle);
  const logRace = throttledLog(logger.warn, throttle);
  return async (ctx: BerthContext, next: Next): Promise<void> => {
    try {
      await next();
    } catch (err) {
      const cause = storageCause(err);
      if (isUnavailable(cause)) {
        logOutage('storage is unavailable: requests are answered 503', { path: ctx.path, error: cause });
        return render(ctx, storageUnavailable());
      }
      if (isPreconditionFailed(cause)) {
        logRace('a concurrent write won a race nothing handled: answered 503, retry', {
          path: ctx.path,
          object: cause.path,
        });
        return render(ctx, lostRace());
      }
      const error = toRegistryError(err, ctx);
      // A RegistryError is a deliberate answer (503, 507) that its source has logged already.
      if (error.status >= 500 && !isRegistryError(err)) {
        logger.error('request failed', { request_id: ctx.state.requestId, path: ctx.path, error: err });
      }
      render(ctx, error);
    }
  };
}

/** The error, or the storage error it wraps (`cause`), which decides the answer. */
function storageCause(err: unknown): unknown {
  let current = err;
  for (let depth = 0; depth < 5; depth++) {
    if (isUnavailable(current) || isPreconditionFailed(current)) return current;
    if (!(current instanceof Error)) break;
    current = current.cause;
  }
  return err;
}

function lostRace(): RegistryError {
  return new RegistryError('UNAVAILABLE', 'another request changed the same data at the same time; retry', {
    headers: { 'Retry-After': '1' },
  });
}

/** Writes an error response, unless the response has already started. */
export function render(ctx: BerthContext, error: RegistryError): void {
  if (ctx.headerSent || !ctx.writable) {
    ctx.req.destroy();
    return;
  }
  for (const name of ctx.res.getHeaderNames()) {
    if (!KEPT_HEADERS.includes(name)) ctx.res.removeHeader(name);
  }
  ctx.status = error.status;
  ctx.set(error.headers);
  // Answered before the body was read to its end (a rejected chunk, a full disk): the
  // connection closes after the answer. Until then the rest of the body is read and dropped,
  // since closing a socket with unread data resets it and the client could lose the answer.
  if (!ctx.req.complete) {
    ctx.set('Connection', 'close');
    ctx.req.resume();
  }
  ctx.type = 'application/json';
  ctx.body = error.toJSON();
}

function toRegistryError(err: unknown, ctx: BerthContext): RegistryError {
  if (isRegistryError(err)) return err;
  if (isClientDisconnect(err, ctx)) {
    return new RegistryError('BLOB_UPLOAD_INVALID', 'the request body ended before it was complete', {
      status: 400,
    });
  }
  return new RegistryError('UNKNOWN', 'internal server error', {
    detail: { requestId: ctx.state.requestId },
  });
}

function isClientDisconnect(err: unknown, ctx: BerthContext): boolean {
  if (ctx.req.complete) return false;
  const code = (err as NodeJS.ErrnoException | null)?.code;
  return (
    code === 'ECONNRESET' ||
    code === 'ERR_STREAM_PREMATURE_CLOSE' ||
    (err as Error | null)?.message === 'aborted'
  );
}
