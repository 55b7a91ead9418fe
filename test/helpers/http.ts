/** Plain node:http helpers for what supertest cannot do: chunked bodies and cut-off uploads. */
import { request } from 'node:http';
import { connect } from 'node:net';

/** A response as these helpers return it. */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Sends `chunks` with Transfer-Encoding: chunked (no Content-Length), `gapMs` apart. */
export function sendChunked(
  baseUrl: string,
  method: string,
  path: string,
  chunks: Buffer[],
  headers: Record<string, string> = {},
  gapMs = 0,
): Promise<RawResponse> {
  const sending = streamingRequest(baseUrl, method, path, headers);
  const send = async () => {
    for (const chunk of chunks) {
      sending.write(chunk);
      if (gapMs > 0) await new Promise((resolve) => setTimeout(resolve, gapMs));
    }
    sending.end();
  };
  void send();
  return sending.response;
}

/** A request whose body the test sends piece by piece; `response` settles with the answer. */
export interface StreamingRequest {
  write(bytes: Buffer): void;
  end(bytes?: Buffer): void;
  response: Promise<RawResponse>;
}

/**
 * Starts a request whose body the caller writes when it likes (chunked unless `headers` give
 * a Content-Length). The answer counts once it has arrived: the server may then close the
 * connection while the rest of the body is still being written, and that write failing is
 * not the outcome.
 */
export function streamingRequest(
  baseUrl: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
): StreamingRequest {
  const req = request(`${baseUrl}${path}`, {
    method,
    headers: { 'Content-Type': 'application/octet-stream', ...headers },
  });
  const response = new Promise<RawResponse>((resolve, reject) => {
    let answered = false;
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    req.on('response', (res) => {
      answered = true;
      const body: Buffer[] = [];
      res.on('data', (chunk: Buffer) => body.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(body) }),
      );
      res.on('error', reject);
    });
  });
  return {
    write: (bytes) => req.write(bytes),
    end: (bytes) => (bytes ? req.end(bytes) : req.end()),
    response,
  };
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

/** A request whose client stopped sending: what the server answered, once it closed the connection. */
export interface StalledRequest {
  /** Everything the server sent, once it closed the connection. */
  closed: Promise<string>;
  /** Drops the connection from the client side. */
  destroy(): void;
}

/**
 * Starts a request (`head` is the request line's method and path) that declares
 * `declaredLength` body bytes, or a chunked body when it is undefined, sends only `sent` and
 * then nothing more, holding the connection open.
 */
export function stalledRequest(
  baseUrl: string,
  head: string,
  declaredLength: number | undefined,
  sent: Buffer,
  headers: Record<string, string> = {},
): StalledRequest {
  const url = new URL(baseUrl);
  const socket = connect(Number(url.port), url.hostname);
  const framing =
    declaredLength === undefined ? 'Transfer-Encoding: chunked' : `Content-Length: ${declaredLength}`;
  const extra = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.write(`${head} HTTP/1.1\r\nHost: ${url.host}\r\n${extra.join('')}${framing}\r\n\r\n`);
  if (declaredLength === undefined) socket.write(`${sent.length.toString(16)}\r\n`);
  socket.write(sent);
  if (declaredLength === undefined) socket.write('\r\n');
  const received: Buffer[] = [];
  socket.on('data', (data: Buffer) => received.push(data));
  socket.on('error', () => {});
  const closed = new Promise<string>((resolve) =>
    socket.on('close', () => resolve(Buffer.concat(received).toString())),
  );
  return { closed, destroy: () => socket.destroy() };
}
