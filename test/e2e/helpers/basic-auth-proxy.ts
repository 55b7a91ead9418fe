/**
 * A reverse proxy in front of Berth that demands HTTP Basic credentials and records what
 * clients send, so a test can check a client's credential plumbing before Berth itself
 * checks credentials. It accepts any credentials: it only records them.
 */
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A running proxy. */
export interface BasicAuthProxy {
  /** `host:port`, as clients name the registry. */
  host: string;
  /** Every Authorization header received, in order. */
  authorizations: string[];
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

/** The Authorization header value a client sends for `name:password`. */
export function basicAuthorization(name: string, password: string): string {
  return `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}`;
}

/** Starts a proxy on a free loopback port forwarding to `target` (`host:port`). */
export async function startBasicAuthProxy(target: string): Promise<BasicAuthProxy> {
  const [targetHost, targetPort] = target.split(':') as [string, string];
  const authorizations: string[] = [];
  const server = createServer((req, res) => {
    const authorization = req.headers.authorization;
    if (!authorization) {
      // The challenge a distribution registry sends; clients only send credentials after it.
      res.writeHead(401, {
        'WWW-Authenticate': 'Basic realm="berth-e2e"',
        'Docker-Distribution-Api-Version': 'registry/2.0',
        'Content-Type': 'application/json',
      });
      res.end(JSON.stringify({ errors: [{ code: 'UNAUTHORIZED', message: 'authentication required' }] }));
      return;
    }
    authorizations.push(authorization);
    const upstream = request(
      { host: targetHost, port: Number(targetPort), method: req.method, path: req.url, headers: req.headers },
      (response) => {
        res.writeHead(response.statusCode ?? 502, response.headers);
        response.pipe(res);
      },
    );
    upstream.once('error', (error) => res.destroy(error));
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    authorizations,
    close() {
      return new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
