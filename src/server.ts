/**
 * The HTTP server around the Koa app: listening, timeouts suited to multi-GiB uploads, and a
 * graceful shutdown that stops accepting, lets in-flight requests finish (up to a drain
 * timeout) and then closes what is left.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseAddress } from './config/values.js';
import { hasErrorCode, systemErrorReason } from './fs/system-error.js';

/** The listen address could not be taken: in use, not an address of this host, privileged. */
export class ListenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ListenError';
  }
}

/** A listening server. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:5000`. */
  url: string;
  port: number;
  /** Stops accepting, waits up to `drainTimeoutMs` for in-flight requests, then closes the rest. */
  close(drainTimeoutMs: number): Promise<void>;
  readonly server: Server;
}

/** Anything that hands out a Node request listener, such as a Koa app. */
export interface RequestHandlerFactory {
  callback(): (req: IncomingMessage, res: ServerResponse) => unknown;
}

/** Timeouts of the server itself (the body idle timeout is middleware: it needs the request). */
export interface ServerTimeouts {
  /** How long a client may take to send a request's headers (`http.headertimeout`); 0: no limit. */
  headerTimeoutMs: number;
}

/**
 * Starts `app` on `addr` (`host:port`; port 0 picks a free one). Rejects with a ListenError
 * naming the address when it cannot be listened on.
 */
export async function startServer(
  app: RequestHandlerFactory,
  addr: string,
  timeouts: ServerTimeouts = { headerTimeoutMs: 30_000 },
): Promise<RunningServer> {
  const { host, port } = parseAddress(addr);
  const server = createServer(
    // Node enforces the header timeout on this sweep, so a slow sweep would stretch it.
    { connectionsCheckingInterval: Math.min(Math.max(timeouts.headerTimeoutMs / 4, 250), 30_000) },
    app.callback(),
  );
  // Blob uploads may legitimately take longer than Node's default 5-minute request timeout:
  // a whole body has no deadline, only an idle one (http.bodytimeout).
  server.requestTimeout = 0;
  server.headersTimeout = timeouts.headerTimeoutMs;
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    const refused = (err: Error) => reject(listenError(addr, err));
    server.once('error', refused);
    server.listen(port, host || undefined, () => {
      server.off('error', refused);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const shownHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${shownHost}:${address.port}`,
    port: address.port,
    server,
    close: (drainTimeoutMs) => closeGracefully(server, drainTimeoutMs),
  };
}

/** The ListenError for a failed listen on `addr`, with a hint where the reason alone is terse. */
export function listenError(addr: string, err: Error): ListenError {
  const hint = hasErrorCode(err, 'EACCES') ? ' (ports below 1024 need root or CAP_NET_BIND_SERVICE)' : '';
  return new ListenError(`cannot listen on ${addr}: ${systemErrorReason(err)}${hint}`);
}

function closeGracefully(server: Server, drainTimeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), drainTimeoutMs);
    timer.unref();
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
