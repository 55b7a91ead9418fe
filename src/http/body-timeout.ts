/**
 * The body idle timeout (`http.bodytimeout`): a request body must keep arriving. A client
 * that declares more bytes than it sends would otherwise hold a socket, a file and a request
 * forever. Only idleness is bounded: a multi-GiB body that trickles in steadily takes as long
 * as it takes. Progress is the connection's byte count; bytes already received but not yet
 * consumed mean Berth is the slow side (a busy disk), which never counts against the client.
 */
import type { Next } from 'koa';
import { RegistryError } from '../registry/errors.js';
import type { BerthContext } from './context.js';
import { hasRequestBody } from './request-body.js';

/** Middleware: answers 408 and closes the connection when a body is idle for `idleMs` (0: never). */
export function bodyTimeout(idleMs: number) {
  return async (ctx: BerthContext, next: Next): Promise<void> => {
    if (idleMs > 0 && hasRequestBody(ctx.req)) watchBody(ctx, idleMs);
    await next();
  };
}

/**
 * Checks progress a few times per timeout until the body has ended or the connection closed,
 * which is also after the handler is done: Node reads and drops a body nobody consumed.
 */
function watchBody(ctx: BerthContext, idleMs: number): void {
  const { req } = ctx;
  let seen = req.socket.bytesRead;
  let lastProgress = Date.now();
  let aborted = false;
  const check = setInterval(
    () => {
      const read = req.socket?.bytesRead ?? seen;
      if (read !== seen || req.readableLength > 0) {
        seen = read;
        lastProgress = Date.now();
        return;
      }
      if (Date.now() - lastProgress < idleMs) return;
      // First fail the handler's reading, so that it cuts its work back (an upload chunk) and
      // answers as for any failure; if the connection is still there one timeout later, drop it.
      const error = bodyTimedOut(idleMs);
      if (ctx.state.abortBody && !aborted) {
        aborted = true;
        lastProgress = Date.now();
        ctx.state.abortBody(error);
        return;
      }
      stop();
      answerAndDrop(ctx, error);
    },
    Math.max(idleMs / 4, 10),
  );
  check.unref();
  const stop = () => clearInterval(check);
  req.once('end', stop);
  req.once('close', stop);
}

function bodyTimedOut(idleMs: number): RegistryError {
  return new RegistryError(
    'BLOB_UPLOAD_INVALID',
    `no request body bytes arrived for ${idleMs / 1000}s (http.bodytimeout)`,
    { status: 408 },
  );
}

/** Answers with `error` unless an answer is already on its way, then drops the connection. */
function answerAndDrop(ctx: BerthContext, error: RegistryError): void {
  // Destroying the request with the error fails whatever still reads it (a manifest is then
  // never stored) and frees the socket.
  const drop = () => ctx.req.destroy(error);
  if (ctx.res.headersSent) {
    drop();
    return;
  }
  ctx.res.writeHead(error.status, { 'Content-Type': 'application/json', Connection: 'close' });
  ctx.res.end(JSON.stringify(error.toJSON()), drop);
}
