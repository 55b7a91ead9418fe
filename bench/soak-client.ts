/**
 * One soak client: pushes a small image under a fresh tag and reads it back, again and again,
 * counting requests and wrong answers instead of stopping at the first one (a soak is about
 * what a server does after a long time, so one bad answer must not end it).
 */

import { randomBytes, randomInt } from 'node:crypto';
import { sha256Digest } from './data.js';
import { OCI_MANIFEST } from './oci.js';
import { openConnection, type RawConnection, type RawResponse, responseHeader } from './raw-http.js';
import {
  BenchError,
  expectStatus,
  pushBlob,
  putManifest,
  type RepoTarget,
  repoHead,
} from './registry-client.js';

/** Running totals shared by all clients of a soak. */
export interface SoakCounters {
  requests: number;
  /** Answers with the wrong status or the wrong bytes, and requests that failed outright. */
  errors: number;
  /** Manifests the server acknowledged. */
  manifests: number;
  /** The first few error messages, for the report. */
  firstErrors: string[];
}

const KEPT_ERRORS = 5;
const MIN_LAYER = 1024;
const MAX_LAYER = 4096;

/** Fresh totals. */
export function soakCounters(): SoakCounters {
  return { requests: 0, errors: 0, manifests: 0, firstErrors: [] };
}

interface Blob {
  bytes: Buffer;
  digest: string;
}

function blob(bytes: Buffer): Blob {
  return { bytes, digest: sha256Digest(bytes) };
}

function descriptor(mediaType: string, b: Blob) {
  return { mediaType, digest: b.digest, size: b.bytes.length };
}

/** Two random layers of 1–4 KiB, a config naming them, and an OCI manifest over the three. */
function smallImage(): { blobs: Blob[]; manifest: Buffer } {
  const layers = [0, 1].map(() => blob(randomBytes(randomInt(MIN_LAYER, MAX_LAYER + 1))));
  const config = blob(
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        rootfs: { type: 'layers', diff_ids: layers.map((l) => l.digest) },
        config: {},
      }),
    ),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: descriptor('application/vnd.oci.image.config.v1+json', config),
      layers: layers.map((l) => descriptor('application/vnd.oci.image.layer.v1.tar', l)),
    }),
  );
  return { blobs: [config, ...layers], manifest };
}

/** A connection that counts every request sent on it. */
function counting(conn: RawConnection, counters: SoakCounters): RawConnection {
  return {
    request(head, options) {
      counters.requests++;
      return conn.request(head, options);
    },
    close: () => conn.close(),
  };
}

function expectBody(response: RawResponse, expected: Buffer, what: string): void {
  if (response.body?.equals(expected)) return;
  throw new BenchError(`${what}: the body is not the ${expected.length} bytes pushed`);
}

/** GETs the manifest by tag, then HEADs and GETs each blob, checking sizes and bytes. */
async function readBack(
  conn: RawConnection,
  repo: RepoTarget,
  tag: string,
  image: ReturnType<typeof smallImage>,
): Promise<void> {
  const manifestPath = `/v2/${repo.name}/manifests/${tag}`;
  const manifest = await conn.request(repoHead(repo, 'GET', manifestPath, { Accept: OCI_MANIFEST }), {
    keepBody: true,
  });
  expectStatus(manifest, 200, `GET ${manifestPath}`);
  expectBody(manifest, image.manifest, `GET ${manifestPath}`);
  for (const b of image.blobs) {
    const path = `/v2/${repo.name}/blobs/${b.digest}`;
    const head = await conn.request(repoHead(repo, 'HEAD', path), { headOnly: true });
    expectStatus(head, 200, `HEAD ${path}`);
    if (responseHeader(head, 'content-length') !== String(b.bytes.length))
      throw new BenchError(`HEAD ${path}: Content-Length is not ${b.bytes.length}`);
    const get = await conn.request(repoHead(repo, 'GET', path), { keepBody: true });
    expectStatus(get, 200, `GET ${path}`);
    expectBody(get, b.bytes, `GET ${path}`);
  }
}

/** Pushes one small image to `repo` under `tag` and reads it back. */
async function pushAndReadBack(
  conn: RawConnection,
  repo: RepoTarget,
  tag: string,
  counters: SoakCounters,
): Promise<void> {
  const image = smallImage();
  for (const b of image.blobs) await pushBlob(conn, repo, b.bytes, b.digest);
  await putManifest(conn, repo, tag, image.manifest, OCI_MANIFEST);
  counters.manifests++;
  await readBack(conn, repo, tag, image);
}

function countError(counters: SoakCounters, error: Error): void {
  counters.errors++;
  if (counters.firstErrors.length < KEPT_ERRORS) counters.firstErrors.push(error.message);
}

/**
 * Runs push-and-read-back cycles on its own connection to `port` while `keepGoing()`, under
 * tags `<prefix>-<n>`. A wrong answer ends its cycle and counts as one error; a failed
 * connection counts as one and is replaced. Throws only when a new connection cannot be
 * opened (the server is gone).
 */
export async function runSoakClient(
  port: number,
  repo: RepoTarget,
  tagPrefix: string,
  keepGoing: () => boolean,
  counters: SoakCounters,
): Promise<void> {
  let conn = counting(await openConnection(port), counters);
  try {
    for (let cycle = 0; keepGoing(); cycle++) {
      try {
        await pushAndReadBack(conn, repo, `${tagPrefix}-${cycle}`, counters);
      } catch (error) {
        countError(counters, error as Error);
        if (error instanceof BenchError) continue;
        conn.close();
        conn = counting(await openConnection(port), counters);
      }
    }
  } finally {
    conn.close();
  }
}
