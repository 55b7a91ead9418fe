/** Plain node:http helpers for what supertest cannot do: chunked bodies and cut-off uploads. */
import { request } from 'node:http';
import { connect } from 'node:net';

/** A response as these helpers return it. */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Sends `chunks` with Transfer-Encoding: chunked (no Content-Length). */
export function sendChunked(
  baseUrl: string,
  method: string,
  path: string,
  chunks: Buffer[],
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(`${baseUrl}${path}`, {
      method,
      headers: { 'Content-Type': 'application/octet-stream', ...headers },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const body: Buffer[] = [];
      res.on('data', (chunk: Buffer) => body.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(body) }),
      );
    });
    for (const chunk of chunks) req.write(chunk);
    req.end();
  });
}

/**
 * Starts a request that declares `declaredLength` body bytes, sends only `sent`, then drops
 * the connection, as a killed client would. Resolves once the socket is closed.
 */
export function sendAndDisconnect(
  baseUrl: string,
  method: string,
  path: string,
  declaredLength: number,
  sent: Buffer,
): Promise<void> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => {
      socket.write(
        `${method} ${path} HTTP/1.1\r\nHost: ${url.host}\r\nContent-Type: application/octet-stream\r\n` +
          `Content-Length: ${declaredLength}\r\n\r\n`,
      );
      socket.write(sent, () => {
        // Give the server a moment to take the bytes before the connection drops.
        setTimeout(() => socket.destroy(), 100);
      });
    });
    socket.on('error', reject);
    socket.on('close', () => resolve());
  });
}
