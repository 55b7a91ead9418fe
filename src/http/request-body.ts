/**
 * The request body handed to a consumer that may fail midway (a rejected chunk, a full disk).
 * Piping the request itself into a failing pipeline would destroy the request and with it the
 * connection, and the client would see a reset instead of the error. This stream carries the
 * same bytes and the client's own failures (a disconnect), but its failure leaves the request
 * alone, so the error response still goes out.
 */
import type { IncomingMessage } from 'node:http';
import { finished, PassThrough, type Readable } from 'node:stream';

/** The body of `req` as a stream whose destruction does not destroy `req`. */
export function requestBody(req: IncomingMessage): Readable {
  const body = new PassThrough();
  finished(req, (err) => {
    if (err) body.destroy(err);
  });
  return req.pipe(body);
}
