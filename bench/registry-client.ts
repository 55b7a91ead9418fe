/**
 * The registry protocol steps the scenarios use (start an upload, send chunks, finish it,
 * put a manifest), on top of raw-http. Every step checks the status code and throws a
 * BenchError naming the request and the server's answer when it is not the expected one.
 */
import { type RawConnection, type RawResponse, responseHeader } from './raw-http.js';

/**
 * One repository on the server under test: where requests go and the headers every request to
 * it carries (the bearer token when the server wants one; none otherwise).
 */
export interface RepoTarget {
  /** Host header value, `127.0.0.1:<port>`. */
  host: string;
  /** Repository name, e.g. `bench/pull`. */
  name: string;
  headers: Readonly<Record<string, string>>;
}

/** A request that got the wrong answer; the run aborts with this message. */
export class BenchError extends Error {
  override name = 'BenchError';
}

/** Builds a request head; `host` is the Host header value (`127.0.0.1:port`). */
export function requestHead(
  method: string,
  path: string,
  host: string,
  headers: Readonly<Record<string, string | number>> = {},
): string {
  let head = `${method} ${path} HTTP/1.1\r\nHost: ${host}\r\n`;
  for (const name in headers) head += `${name}: ${headers[name]}\r\n`;
  return `${head}\r\n`;
}

/** A request head for `repo`: its own headers (credentials) first, then `headers`. */
export function repoHead(
  repo: RepoTarget,
  method: string,
  path: string,
  headers: Readonly<Record<string, string | number>> = {},
): string {
  return requestHead(method, path, repo.host, { ...repo.headers, ...headers });
}

/** Throws a BenchError unless `response.status` is `expected`. */
export function expectStatus(response: RawResponse, expected: number, what: string): void {
  if (response.status === expected) return;
  const body = response.body ? response.body.toString('utf8', 0, Math.min(response.body.length, 500)) : '';
  throw new BenchError(
    `${what}: expected HTTP ${expected}, got ${response.status}${body ? ` with body ${body}` : ''}`,
  );
}

/** The path (and query) of a Location header, which may be absolute (distribution) or relative. */
export function locationPath(response: RawResponse, what: string): string {
  const location = responseHeader(response, 'location');
  if (!location) throw new BenchError(`${what}: the ${response.status} response has no Location header`);
  if (location.startsWith('/')) return location;
  const url = new URL(location);
  return `${url.pathname}${url.search}`;
}

/** Appends `key=value` to the query of `path`. */
export function withQuery(path: string, key: string, value: string): string {
  return `${path}${path.includes('?') ? '&' : '?'}${key}=${encodeURIComponent(value)}`;
}

/** POST /v2/<repo>/blobs/uploads/ and returns the upload location (path + query). */
export async function startUpload(conn: RawConnection, repo: RepoTarget): Promise<string> {
  const path = `/v2/${repo.name}/blobs/uploads/`;
  const what = `POST ${path}`;
  const response = await conn.request(repoHead(repo, 'POST', path, { 'Content-Length': 0 }));
  expectStatus(response, 202, what);
  return locationPath(response, what);
}

/** PATCH one chunk (`body` covers bytes `start`..`start + body.length - 1`); returns the next location. */
export async function patchChunk(
  conn: RawConnection,
  repo: RepoTarget,
  location: string,
  start: number,
  body: Buffer,
): Promise<string> {
  const end = start + body.length - 1;
  const head = repoHead(repo, 'PATCH', location, {
    'Content-Type': 'application/octet-stream',
    'Content-Range': `${start}-${end}`,
    'Content-Length': body.length,
  });
  const what = `PATCH upload bytes ${start}-${end}`;
  const response = await conn.request(head, { body });
  expectStatus(response, 202, what);
  return locationPath(response, what);
}

/**
 * POST, then `data` in PATCH chunks of `chunkSize` bytes (the last may be shorter); returns
 * the location to complete the upload at.
 */
export async function pushChunks(
  conn: RawConnection,
  repo: RepoTarget,
  data: Buffer,
  chunkSize: number,
): Promise<string> {
  let location = await startUpload(conn, repo);
  for (let start = 0; start < data.length; start += chunkSize) {
    location = await patchChunk(conn, repo, location, start, data.subarray(start, start + chunkSize));
  }
  return location;
}

/** PUT <location>?digest=… with `body` (or none) to complete an upload; expects 201. */
export async function finishUpload(
  conn: RawConnection,
  repo: RepoTarget,
  location: string,
  digest: string,
  body?: Buffer,
): Promise<void> {
  const headers: Record<string, string | number> = { 'Content-Length': body ? body.length : 0 };
  if (body) headers['Content-Type'] = 'application/octet-stream';
  const response = await conn.request(repoHead(repo, 'PUT', withQuery(location, 'digest', digest), headers), {
    ...(body ? { body } : {}),
  });
  expectStatus(response, 201, `PUT upload with digest ${digest}`);
}

/** Pushes a blob with the two-request flow (POST, then PUT with the whole body). */
export async function pushBlob(
  conn: RawConnection,
  repo: RepoTarget,
  blob: Buffer,
  digest: string,
): Promise<void> {
  const location = await startUpload(conn, repo);
  await finishUpload(conn, repo, location, digest, blob);
}

/** PUT /v2/<repo>/manifests/<reference>; expects 201. */
export async function putManifest(
  conn: RawConnection,
  repo: RepoTarget,
  reference: string,
  body: Buffer,
  mediaType: string,
): Promise<void> {
  const path = `/v2/${repo.name}/manifests/${reference}`;
  const head = repoHead(repo, 'PUT', path, { 'Content-Type': mediaType, 'Content-Length': body.length });
  expectStatus(await conn.request(head, { body }), 201, `PUT ${path}`);
}
