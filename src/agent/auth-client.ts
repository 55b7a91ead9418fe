/**
 * The client side of registry auth: reading `WWW-Authenticate` challenges, fetching bearer
 * tokens from the challenge's realm, and remembering them per repository until they expire, so
 * a pull of many layers asks the token server once.
 */

/** A user name and password (or robot secret) for one registry. */
export interface Credentials {
  username: string;
  password: string;
}

/** One challenge of a `WWW-Authenticate` header; the scheme is lower case. */
export interface Challenge {
  scheme: string;
  params: Record<string, string>;
}

/** The fetch the clients use; tests and the CLI may hand in their own. */
export type Fetch = typeof fetch;

/** Answers challenges for one registry and remembers the answers. */
export interface Authenticator {
  /** The Authorization header already known for `repository` (or the registry), if any. */
  known(repository: string | undefined): string | undefined;
  /**
   * An Authorization header that answers `challenge`, or undefined when nothing this client
   * holds could answer it (a Basic challenge without credentials, an unknown scheme).
   */
  answer(
    challenge: string,
    repository: string | undefined,
    signal?: AbortSignal,
  ): Promise<string | undefined>;
  /** Whether credentials were given (for error messages that suggest logging in). */
  readonly hasCredentials: boolean;
}

/** Settings of an authenticator. */
export interface AuthenticatorOptions {
  /** `host[:port]`, for messages. */
  registry: string;
  credentials?: Credentials | undefined;
  fetch?: Fetch;
  /** Milliseconds since the epoch; tests move it. */
  now?: () => number;
}

// The distribution token spec's default when a token server does not say.
const DEFAULT_TOKEN_SECONDS = 60;
// Renew a little early so a token does not expire between the check and the request.
const EXPIRY_MARGIN_MS = 10_000;
const MAX_TOKEN_RESPONSE = 1024 * 1024;

/** Parses a `WWW-Authenticate` header (`Bearer realm="...",service="..."`) into its challenges. */
export function parseChallenges(header: string): Challenge[] {
  const challenges: Challenge[] = [];
  const token = /\s*([A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]*)(?:\s+|$)/y;
  const param = /\s*([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))\s*(?:,|$)/y;
  let position = 0;
  while (position < header.length) {
    token.lastIndex = position;
    const scheme = token.exec(header);
    if (!scheme) break;
    position = token.lastIndex;
    const params: Record<string, string> = {};
    for (;;) {
      param.lastIndex = position;
      const match = param.exec(header);
      if (!match) break;
      params[(match[1] as string).toLowerCase()] = match[2]?.replace(/\\(.)/g, '$1') ?? match[3] ?? '';
      position = param.lastIndex;
    }
    challenges.push({ scheme: (scheme[1] as string).toLowerCase(), params });
    if (position < header.length && header[position] === ',') position++;
  }
  return challenges;
}

/** `Basic base64(user:password)`. */
export function basicAuthorization(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

/** Creates the authenticator for one registry; its token cache lives as long as it does. */
export function createAuthenticator(options: AuthenticatorOptions): Authenticator {
  const doFetch = options.fetch ?? fetch;
  const now = options.now ?? Date.now;
  const { credentials, registry } = options;
  const tokens = new Map<string, { header: string; expiresAt: number }>();
  let basic: string | undefined;

  const known = (repository: string | undefined): string | undefined => {
    const cached = tokens.get(repository ?? '');
    if (cached && cached.expiresAt > now()) return cached.header;
    return basic;
  };

  const fetchToken = async (
    params: Record<string, string>,
    repository: string | undefined,
    signal: AbortSignal | undefined,
  ): Promise<string> => {
    const realm = params.realm;
    if (!realm) throw new Error(`${registry} sent a Bearer challenge without a realm`);
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new Error(`${registry} sent a Bearer challenge with an invalid realm "${realm}"`);
    }
    if (params.service) url.searchParams.set('service', params.service);
    // Ask for pull only: that is all the agent does, and a policy may refuse more.
    const scope = repository ? `repository:${repository}:pull` : params.scope;
    if (scope) url.searchParams.set('scope', scope);
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (credentials) headers.Authorization = basicAuthorization(credentials);
    let response: Response;
    try {
      response = await doFetch(url, { headers, signal: signal ?? null });
    } catch (error) {
      throw networkError(url.host, error);
    }
    const text = await boundedText(response, MAX_TOKEN_RESPONSE);
    if (response.status === 401 || response.status === 403) {
      const what = credentials
        ? `the token server refused user "${credentials.username}"`
        : 'the token server refused an anonymous request';
      throw new Error(
        `access denied to ${where(registry, repository)}: ${what}: ${errorMessage(text, response.status)}`,
      );
    }
    if (!response.ok) {
      throw new Error(
        `token server ${url.host} answered ${response.status}: ${errorMessage(text, response.status)}`,
      );
    }
    let body: { token?: unknown; access_token?: unknown; expires_in?: unknown };
    try {
      body = JSON.parse(text) as typeof body;
    } catch {
      throw new Error(`token server ${url.host} answered with something other than JSON`);
    }
    const token = typeof body.token === 'string' ? body.token : body.access_token;
    if (typeof token !== 'string' || token === '') throw new Error(`token server ${url.host} sent no token`);
    const seconds =
      typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_TOKEN_SECONDS;
    const header = `Bearer ${token}`;
    // A token shorter-lived than the margin is used once rather than never cached usefully.
    const lifetime = Math.max(seconds * 1000 - EXPIRY_MARGIN_MS, (seconds * 1000) / 2);
    tokens.set(repository ?? '', { header, expiresAt: now() + lifetime });
    return header;
  };

  return {
    known,
    hasCredentials: credentials !== undefined,
    async answer(header, repository, signal) {
      const challenges = parseChallenges(header);
      const bearer = challenges.find((challenge) => challenge.scheme === 'bearer');
      if (bearer) return fetchToken(bearer.params, repository, signal);
      if (challenges.some((challenge) => challenge.scheme === 'basic') && credentials) {
        basic = basicAuthorization(credentials);
        return basic;
      }
      return undefined;
    },
  };
}

/** The message of an OCI error body (`{"errors":[{"code","message"}]}`), or of other JSON or text. */
export function errorMessage(text: string, status: number): string {
  try {
    const body = JSON.parse(text) as {
      errors?: Array<{ code?: string; message?: string }>;
      details?: string;
    };
    const first = Array.isArray(body.errors) ? body.errors[0] : undefined;
    if (first?.message) return first.code ? `${first.message} (${first.code})` : first.message;
    if (typeof body.details === 'string') return body.details;
  } catch {
    // Not JSON: fall through to the text itself.
  }
  const plain = text.trim().slice(0, 200);
  return plain || `HTTP ${status}`;
}

/** A network failure as an Error naming the host; aborts are passed through untouched. */
export function networkError(host: string, error: unknown): Error {
  if (error instanceof Error && error.name === 'AbortError') return error;
  const cause =
    error instanceof Error ? (error.cause as { code?: string; message?: string } | undefined) : undefined;
  const detail = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
  const hint = /wrong version number|EPROTO|ERR_SSL/i.test(`${detail} ${cause?.message ?? ''}`)
    ? ' (the registry may speak plain HTTP: try --plain-http)'
    : '';
  return new Error(`cannot reach ${host}: ${detail}${hint}`, { cause: error });
}

/** Reads at most `limit` bytes of a response body; more is an error, not a truncation. */
export async function readBounded(response: Response, limit: number): Promise<Buffer> {
  if (!response.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    length += chunk.length;
    if (length > limit) {
      await response.body.cancel().catch(() => {});
      throw new Error(`a response from ${hostOf(response.url)} is larger than ${limit} bytes`);
    }
    chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  return Buffer.concat(chunks);
}

/** The body as text, bounded as readBounded bounds it. */
export async function boundedText(response: Response, limit: number): Promise<string> {
  return (await readBounded(response, limit)).toString('utf8');
}

/** `registry/repository`, or the registry alone for registry-wide requests. */
export function where(registry: string, repository: string | undefined): string {
  return repository ? `${registry}/${repository}` : registry;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'the registry';
  }
}
