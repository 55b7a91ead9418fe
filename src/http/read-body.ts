/**
 * Reads a small request body (a manifest) into memory with a hard limit: a declared
 * Content-Length over the limit is refused before reading, a chunked body as soon as it
 * passes the limit. Either way the answer is 413, the connection is closed after it, and
 * nothing is stored.
 */
import type { IncomingMessage } from 'node:http';
import { RegistryError } from '../registry/errors.js';

/** Reads the whole body of `req`, refusing more than `limit` bytes. */
export function readLimitedBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let total = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    const onData = (chunk: Buffer) => {
      total += chunk.length;
      if (total <= limit) {
        chunks.push(chunk);
        return;
      }
      // Stop buffering but do not destroy the socket: the 413 must still reach the client.
      cleanup();
      req.resume();
      reject(tooLarge(limit));
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks, total));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

function tooLarge(limit: number): RegistryError {
  return new RegistryError(
    'SIZE_INVALID',
    `manifest is larger than the ${limit} bytes this registry accepts`,
    {
      status: 413,
      headers: { Connection: 'close' },
      detail: { limit },
    },
  );
}
