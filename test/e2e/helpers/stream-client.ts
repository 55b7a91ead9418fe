/** Streaming HTTP helpers for multi-GiB transfers: bodies are generated, never held whole. */
import { createHash, randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { Readable } from 'node:stream';

/** A deterministic-size stream of `total` bytes, stamped so no two MiB are alike. */
export function generatedBody(total: number): { stream: Readable; digest: Promise<string> } {
  const block = randomBytes(1024 * 1024);
  const hash = createHash('sha256');
  let sent = 0;
  let resolveDigest: (digest: string) => void = () => {};
  const digest = new Promise<string>((resolve) => {
    resolveDigest = resolve;
  });
  const stream = new Readable({
    read() {
      if (sent >= total) {
        resolveDigest(`sha256:${hash.digest('hex')}`);
        this.push(null);
        return;
      }
      const size = Math.min(block.length, total - sent);
      const chunk = Buffer.from(block.subarray(0, size));
      chunk.writeUInt32BE(sent / block.length, 0);
      hash.update(chunk);
      sent += size;
      this.push(chunk);
    },
  });
  return { stream, digest };
}

/** Sends `body` (a stream) and resolves with status and headers once the response ends. */
export function sendStream(
  url: string,
  method: string,
  body: Readable | undefined,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers });
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    if (body) body.pipe(req);
    else req.end();
  });
}

/** GETs a URL and hashes the body as it streams; resolves with status, size and digest. */
export function hashDownload(url: string): Promise<{ status: number; size: number; digest: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET' });
    req.on('error', reject);
    req.on('response', (res) => {
      const hash = createHash('sha256');
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        hash.update(chunk);
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, size, digest: `sha256:${hash.digest('hex')}` }),
      );
      res.on('error', reject);
    });
    req.end();
  });
}
