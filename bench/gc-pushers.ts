/**
 * Push load for the GC bench: connections each pushing small images (a config and one 4 KiB
 * layer, both new, then the manifest) until stopped, counting images per second. A push that
 * garbage collection overtook (MANIFEST_BLOB_UNKNOWN, or 503) is counted and the connection
 * goes on with the next image; any other answer stops the run.
 */
import { performance } from 'node:perf_hooks';
import { imageManifest, jsonBlob, OCI_MANIFEST, randomBlob } from '../test/helpers/oci.js';
import { closeAll, openConnections } from './load.js';
import type { RawConnection, RawResponse } from './raw-http.js';
import { BenchError, type RepoTarget, repoHead, startUpload, withQuery } from './registry-client.js';

/** What a push load did. */
export interface PushTally {
  images: number;
  /** Pushes refused because GC took a blob meanwhile. */
  refusals: number;
  elapsedMs: number;
}

/** A push load that runs until stopped. */
export interface PushLoad {
  /** Images pushed so far. */
  images(): number;
  /** Lets each connection finish its image; resolves with the tally. */
  stop(): Promise<PushTally>;
}

const LAYER_SIZE = 4096;

/** Starts `concurrency` connections pushing images into `repo`. */
export async function startPushLoad(port: number, repo: RepoTarget, concurrency: number): Promise<PushLoad> {
  const connections = await openConnections(port, concurrency);
  const tally: PushTally = { images: 0, refusals: 0, elapsedMs: 0 };
  let stopping = false;
  let next = 0;
  const started = performance.now();
  const worker = async (conn: RawConnection) => {
    while (!stopping) {
      if (await pushImage(conn, repo, next++)) tally.images += 1;
      else tally.refusals += 1;
    }
  };
  const running = Promise.all(connections.map(worker)).finally(() => closeAll(connections));
  // Reported by stop(); kept from being an unhandled rejection meanwhile.
  running.catch(() => undefined);
  return {
    images: () => tally.images,
    async stop() {
      stopping = true;
      await running;
      tally.elapsedMs = performance.now() - started;
      return tally;
    },
  };
}

/** Pushes one new image; false when GC overtook it. */
async function pushImage(conn: RawConnection, repo: RepoTarget, n: number): Promise<boolean> {
  const layer = randomBlob(LAYER_SIZE);
  const config = jsonBlob({ architecture: 'amd64', os: 'linux', n, nonce: layer.descriptor.digest });
  for (const blob of [config, layer]) {
    const location = await startUpload(conn, repo);
    const path = withQuery(location, 'digest', blob.descriptor.digest);
    const head = repoHead(repo, 'PUT', path, {
      'Content-Type': 'application/octet-stream',
      'Content-Length': blob.content.length,
    });
    if (!accepted(await conn.request(head, { body: blob.content }), `PUT blob ${blob.descriptor.digest}`))
      return false;
  }
  const body = imageManifest({ config: config.descriptor, layers: [layer.descriptor] });
  const path = `/v2/${repo.name}/manifests/p${n}`;
  const head = repoHead(repo, 'PUT', path, { 'Content-Type': OCI_MANIFEST, 'Content-Length': body.length });
  return accepted(await conn.request(head, { body }), `PUT ${path}`);
}

/** True on 201; false on a refusal GC caused; throws on anything else. */
function accepted(response: RawResponse, what: string): boolean {
  if (response.status === 201) return true;
  const text = response.body?.toString('utf8') ?? '';
  if (response.status === 503 || (response.status === 400 && text.includes('MANIFEST_BLOB_UNKNOWN')))
    return false;
  throw new BenchError(`${what}: expected HTTP 201, got ${response.status} ${text.slice(0, 300)}`);
}
