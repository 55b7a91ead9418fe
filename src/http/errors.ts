/**
 * The one place errors become responses: a RegistryError is rendered as OCI error JSON with
 * its status and headers; a client disconnect is mapped to a code; anything else is a 500 whose details go to the log, not to the client.
 */
import type { Next } from 'koa';
import type { Logger } from '../log/logger.js';
import { isRegistryError, RegistryError } from '../registry/errors.js';
import type { BerthContext } from './context.js';

/** Headers kept on error responses; everything else a handler set is dropped. */
const KEPT_HEADERS = ['x-request-id'];

/** Middleware: catches everything below it and renders it. */
export function errorHandler(logger: Logger) {
  return async (ctx: BerthContext, next: Next): Promise<void> => {
    try {
      await next();
    } catch (err) {
      const error = toRegistryError(err, ctx);
      // A RegistryError is a deliberate answer (503, 507) that its source has logged already.
      if (error.status >= 500 && !isRegistryError(err)) {
        logger.error('request failed', { request_id: ctx.state.requestId, path: ctx.path, error: err });
      }
      render(ctx, error);
    }
  };
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
