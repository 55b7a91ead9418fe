/**
 * A loopback HTTP proxy that behaves like a registry client facing token auth: when Berth
 * answers 401 with a Bearer challenge, it asks the challenge's realm for a token (with the
 * proxy's credentials) and retries with it. Putting it in front of Berth lets the whole HTTP
 * suite run unchanged against a registry with auth on.
 *
 * Like docker, it asks for every action on a repository at once and, for a cross-repository
 * mount, for pull on the source too. A request body is buffered until the proxy holds a token
 * for the repository (so it can be re-sent after a challenge), then streamed.
 */
import { createServer, type IncomingMessage, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const EARLY_ANSWER_SIZE = 1024 * 1024;

/** A running proxy. */
export interface ChallengeProxy {
  url: string;
  /** Tokens fetched so far (each challenge that led to a token request). */
  tokenRequests: number;
  close(): Promise<void>;
}

/** Starts a proxy to `target` that logs in as `username`/`password` when challenged. */
export async function startChallengeProxy(
  target: string,
  username: string,
  password: string,
): Promise<ChallengeProxy> {
  const tokens = new Map<string, string>();
  const state = { tokenRequests: 0 };
  const base = new URL(target);
  const basic = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;

  const fetchToken = async (
    challenge: string,
    key: string,
    from: string | undefined,
  ): Promise<string | undefined> => {
    const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (!params.realm) return undefined;
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    const scope = params.scope?.startsWith('repository:')
      ? `repository:${key}:pull,push,delete`
      : params.scope;
    if (scope) url.searchParams.append('scope', scope);
    if (from) url.searchParams.append('scope', `repository:${from}:pull`);
    state.tokenRequests++;
    const response = await fetch(url, { headers: { Authorization: basic } });
    if (!response.ok) return undefined;
    const token = ((await response.json()) as { token: string }).token;
    tokens.set(key, token);
    return token;
  };

  const forward = (req: IncomingMessage, token: string | undefined, body: Buffer | undefined) =>
    new Promise<IncomingMessage>((resolve, reject) => {
      const headers = { ...req.headers };
      if (token) headers.authorization = `Bearer ${token}`;
      // Options rather than a URL string: a URL would normalise `a/../b`, which tests send on purpose.
      const upstream = request({
        host: base.hostname,
        port: base.port,
        path: req.url,
        method: req.method,
        headers,
      });
      let answered = false;
      upstream.on('response', (response) => {
        answered = true;
        resolve(response);
      });
      upstream.on('error', reject);
      req.on('error', () => upstream.destroy());
      const send = () => {
        if (answered) return;
        if (body) upstream.end(body);
        else req.pipe(upstream);
      };
      // Berth refuses a body declared too large before reading it and closes the connection;
      // a client still writing megabytes then sees EPIPE instead of the 413. Wait briefly for
      // such an early answer before sending a large body.
      if (Number(req.headers['content-length'] ?? 0) > EARLY_ANSWER_SIZE) {
        upstream.flushHeaders();
        setTimeout(send, 200);
      } else {
        send();
      }
    });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const key =
      /^\/v2\/(.+?)\/(?:manifests|blobs|tags|referrers|_berth)\//.exec(url.pathname)?.[1] ?? url.pathname;
    const from = url.searchParams.get('from') ?? undefined;
    let token = tokens.get(key);
    const mayHaveBody = !['GET', 'HEAD', 'DELETE'].includes(req.method ?? 'GET');
    const body = token && !from ? undefined : mayHaveBody ? await readAll(req) : Buffer.alloc(0);
    let response = await forward(req, token, body);
    const challenge = response.headers['www-authenticate'];
    if (response.statusCode === 401 && typeof challenge === 'string' && body) {
      response.resume();
      token = await fetchToken(challenge, key, from);
      response = await forward(req, token, body);
    }
    // Berth may answer before reading a body it refuses (413) and close; the proxy drains the
    // client's body instead so the client still reads the answer, as it would from Berth.
    const { connection: _hopByHop, ...headers } = response.headers;
    res.writeHead(response.statusCode ?? 502, headers);
    response.pipe(res);
    req.resume();
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get tokenRequests() {
      return state.tokenRequests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
