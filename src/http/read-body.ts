/**
 * Reads a small request body (a manifest) into memory with a hard limit: a declared
 * Content-Length over the limit is refused before reading, a chunked body is cut off as soon
 * as it passes the limit. Either way the answer is 413 and nothing is stored.
 */
import type { IncomingMessage } from 'node:http';
import { RegistryError } from '../registry/errors.js';

/** Reads the whole body of `req`, refusing more than `limit` bytes. */
export async function readLimitedBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (declared > limit) throw tooLarge(limit);
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > limit) {
      req.destroy();
      throw tooLarge(limit);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, total);
}

function tooLarge(limit: number): RegistryError {
  return new RegistryError('SIZE_INVALID', `manifest is larger than the ${limit} bytes this registry accepts`, {
    status: 413,
    detail: { limit },
  });
}
