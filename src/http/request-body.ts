/**
 * The request body handed to a consumer that may fail midway (a rejected chunk, a full disk,
 * a body that stopped arriving). Piping the request itself into a failing pipeline would
 * destroy the request and with it the connection, and the client would see a reset instead
 * of the error. This stream carries the same bytes and the client's own failures (a
 * disconnect), but its failure leaves the request alone, so the error response still goes out.
 */
import type { IncomingMessage } from 'node:http';
import { finished, PassThrough, type Readable } from 'node:stream';
import type { BerthContext } from './context.js';

/**
 * The body of the request as a stream whose destruction does not destroy the request. It is
 * also left on `ctx.state.abortBody`, so the body timeout can fail the consumer first and let
 * the usual error answer follow once the consumer has cleaned up.
 */
export function requestBody(ctx: BerthContext): Readable {
  const body = new PassThrough();
  // A consumer may attach only later (a chunk queued behind another on the same session);
  // it then finds the stream destroyed, and the error must not go unhandled meanwhile.
  body.on('error', () => {});
  finished(ctx.req, (err) => {
    if (err) body.destroy(err);
  });
  ctx.state.abortBody = (error) => body.destroy(error);
  return ctx.req.pipe(body);
}

/** True when the request carries a body (a length above zero, or chunked). */
export function hasRequestBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  if (length !== undefined) return Number(length) > 0;
  return req.headers['transfer-encoding'] !== undefined;
}
