/**
 * A load balancer for replica tests: a loopback HTTP reverse proxy that sends each request to
 * the next of its backends in turn. It picks per request, not per connection, so a client's
 * keep-alive connection does not stick to one replica. Bodies stream both ways (a blob is
 * never held whole). Headers pass through unchanged but for the hop-by-hop ones: Berth's
 * Location headers are paths (`/v2/…`), so a client's next request comes back to the proxy.
 * Every request is recorded with the backend that served it.
 */
import {
  Agent,
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the proxy forwarded. */
export interface ForwardedRequest {
  /** Index of the backend that served it. */
  backend: number;
  method: string;
  /** The request path without its query. */
  path: string;
  /** The backend's status; 502 when the backend could not be reached. */
  status: number;
  /** The Location header the backend answered with, if any. */
  location?: string;
}

/** A running proxy. */
export interface RoundRobinProxy {
  /** `host:port`, as clients name the registry. */
  host: string;
  url: string;
  /** Every forwarded request, in the order the answers began. */
  requests: ForwardedRequest[];
  /** Requests each backend served, by method: `counts()[backend][method]`. */
  counts(): Array<Record<string, number>>;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

// Headers about one connection, which a proxy must not forward (RFC 9110, 7.6.1).
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'upgrade']);

function endToEnd(headers: IncomingHttpHeaders): IncomingHttpHeaders {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !HOP_BY_HOP.has(name)));
}

/** Starts a proxy on a free loopback port in front of `backends` (base URLs such as `http://127.0.0.1:5000`). */
export async function startRoundRobinProxy(backends: string[]): Promise<RoundRobinProxy> {
  const targets = backends.map((backend) => new URL(backend));
  const agent = new Agent({ keepAlive: true });
  const requests: ForwardedRequest[] = [];
  let next = 0;

  const forward = (req: IncomingMessage, res: ServerResponse) => {
    const backend = next;
    next = (next + 1) % targets.length;
    const target = targets[backend] as URL;
    const record = (status: number, location?: string) =>
      requests.push({
        backend,
        method: req.method ?? 'GET',
        path: (req.url ?? '/').split('?')[0] as string,
        status,
        ...(location === undefined ? {} : { location }),
      });
    const upstream = request({
      agent,
      host: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url,
      headers: endToEnd(req.headers),
    });
    upstream.once('response', (response) => {
      record(response.statusCode ?? 502, response.headers.location);
      res.writeHead(response.statusCode ?? 502, endToEnd(response.headers));
      response.pipe(res);
    });
    upstream.once('error', () => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      record(502);
      res.writeHead(502).end();
    });
    // A client that goes away mid-request takes the backend request with it.
    res.once('close', () => {
      if (!res.writableFinished) upstream.destroy();
    });
    req.pipe(upstream);
  };

  const server = createServer(forward);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    url: `http://127.0.0.1:${port}`,
    requests,
    counts() {
      const counts: Array<Record<string, number>> = targets.map(() => ({}));
      for (const { backend, method } of requests) {
        const byMethod = counts[backend] as Record<string, number>;
        byMethod[method] = (byMethod[method] ?? 0) + 1;
      }
      return counts;
    },
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      });
    },
  };
}

/**
 * The backends that served each blob upload session in `requests`, by session path: the POST
 * that opened it (through its Location) and every request on it since.
 */
export function backendsByUploadSession(requests: ForwardedRequest[]): Map<string, Set<number>> {
  const sessions = new Map<string, Set<number>>();
  for (const { backend, path, location } of requests) {
    const session = [path, location ?? ''].find((candidate) => /\/blobs\/uploads\/[^/]+$/.test(candidate));
    if (session === undefined) continue;
    const backendsOfSession = sessions.get(session) ?? new Set<number>();
    backendsOfSession.add(backend);
    sessions.set(session, backendsOfSession);
  }
  return sessions;
}
