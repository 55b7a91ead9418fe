/**
 * Real clients against two replicas on one store. skopeo copies a multi-layer image in through
 * one replica and out through the other, then in through a round-robin load balancer, so the
 * requests of one blob upload land on both (on one filesystem root and on one S3 bucket).
 * docker builds, pushes, pulls and runs an image through the balancer in front of two replicas
 * on one s3rver bucket.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { sha256 } from '../helpers/oci.js';
import { removeDir, tempDir } from '../helpers/tmp.js';
import { type BerthProcess, serverErrors } from './helpers/berth-process.js';
import {
  assertAppLayers,
  busyboxApp,
  type DockerSession,
  dockerSession,
  pushedDigest,
} from './helpers/docker.js';
import { type LayoutDescriptor, ociLayout, randomFile } from './helpers/oci-layout.js';
import {
  backendsByUploadSession,
  type ForwardedRequest,
  type RoundRobinProxy,
  startRoundRobinProxy,
} from './helpers/round-robin-proxy.js';
import { runOk } from './helpers/run.js';
import { SHARED_STORES, type SharedStore, s3Store, startReplicaPair } from './helpers/shared-store.js';

const UPLOAD_METHODS = ['POST', 'PATCH', 'PUT'];

/** `skopeo copy` between two image references, neither over TLS. */
function copy(from: string, to: string): Promise<string> {
  return runOk('skopeo', ['copy', '--src-tls-verify=false', '--dest-tls-verify=false', from, to]);
}

/** Two replicas on one store and a round-robin proxy in front of them. */
interface Replicas {
  one: BerthProcess;
  two: BerthProcess;
  proxy: RoundRobinProxy;
}

async function startReplicas(store: SharedStore): Promise<Replicas> {
  const [one, two] = await startReplicaPair(store);
  return { one, two, proxy: await startRoundRobinProxy([one.url, two.url]) };
}

/** Stops everything, then fails if either replica logged a server error. */
async function stopReplicas(replicas: Replicas | undefined, store: SharedStore | undefined): Promise<void> {
  await replicas?.proxy.close();
  await Promise.all([replicas?.one.stop(), replicas?.two.stop()]);
  await store?.dispose();
  assert.deepEqual(serverErrors([...(replicas?.one.logs ?? []), ...(replicas?.two.logs ?? [])]), []);
}

/** How many of `requests` each backend served with one of `methods`. */
function servedBy(requests: ForwardedRequest[], methods: string[]): number[] {
  const served = [0, 0];
  for (const { backend, method } of requests) if (methods.includes(method)) served[backend] += 1;
  return served;
}

/** The manifest digest index.json of an OCI layout names first, and the layout's blob digests. */
async function layoutContents(layout: string): Promise<{ manifest: string | undefined; blobs: string[] }> {
  const index = JSON.parse(await readFile(path.join(layout, 'index.json'), 'utf8'));
  const blobs = (await readdir(path.join(layout, 'blobs', 'sha256'))).sort();
  return { manifest: (index.manifests as LayoutDescriptor[])[0]?.digest, blobs };
}

for (const [label, openStore] of SHARED_STORES) {
  describe(`skopeo through two replicas on ${label}`, () => skopeoTests(openStore));
}

function skopeoTests(openStore: () => Promise<SharedStore>): void {
  let store: SharedStore;
  let replicas: Replicas;
  let work: string;
  let image: LayoutDescriptor;

  /** Copies the image out of `host` and fails unless it is the source image, byte for byte. */
  const assertCopiesOutIdentical = async (host: string, repository: string) => {
    const out = path.join(work, `out-${randomBytes(4).toString('hex')}`);
    await copy(`docker://${host}/${repository}`, `oci:${out}:x`);
    const [source, copied] = await Promise.all([
      layoutContents(path.join(work, 'source')),
      layoutContents(out),
    ]);
    assert.equal(copied.manifest, image.digest, 'the manifest digest is unchanged');
    assert.deepEqual(copied.blobs, source.blobs, 'manifest, config and three layers, digests unchanged');
  };

  before(async () => {
    store = await openStore();
    replicas = await startReplicas(store);
    work = await tempDir('berth-replicas-skopeo-');
    const layout = await ociLayout(path.join(work, 'source'));
    image = await layout.image([
      [randomFile('bin/tool', 300_000), randomFile('etc/config', 1000)],
      [randomFile('data/big', 2_000_000)],
      [randomFile('data/small', 10)],
    ]);
    await layout.finish([{ name: 'app', descriptor: image }]);
  });
  after(async () => {
    if (work) await removeDir(work);
    await stopReplicas(replicas, store);
  });

  it('an image copied in through one replica copies out through the other unchanged', async () => {
    const { one, two } = replicas;
    await copy(`oci:${work}/source:app`, `docker://${one.host}/clients/direct:v1`);
    const raw = await runOk('skopeo', [
      'inspect',
      '--raw',
      '--tls-verify=false',
      `docker://${two.host}/clients/direct:v1`,
    ]);
    assert.equal(
      sha256(Buffer.from(raw)),
      image.digest,
      'the other replica serves the manifest byte for byte',
    );
    await assertCopiesOutIdentical(two.host, 'clients/direct:v1');
  });

  it('copied in through a round-robin balancer, the requests of one blob upload land on both replicas', async () => {
    const { one, two, proxy } = replicas;
    await copy(`oci:${work}/source:app`, `docker://${proxy.host}/clients/balanced:v1`);
    const sessions = [...backendsByUploadSession(proxy.requests).values()];
    assert.equal(sessions.length, 4, 'one upload session for each layer and the config');
    // skopeo uploads the config alone, after the layers: its POST and PATCH come one after the
    // other, so round robin sends them to different replicas whatever the layers did.
    assert.ok(
      sessions.some((backends) => backends.size === 2),
      `some session hopped between the replicas: ${JSON.stringify(proxy.counts())}`,
    );
    for (const [backend, served] of servedBy(proxy.requests, UPLOAD_METHODS).entries())
      assert.ok(served > 0, `replica ${backend + 1} served upload requests`);
    // A Location naming a replica would send the client past the balancer.
    const locations = proxy.requests.flatMap(({ location }) => (location === undefined ? [] : [location]));
    assert.ok(
      locations.length > 0 && locations.every((location) => location.startsWith('/v2/')),
      `${locations}`,
    );
    for (const host of [proxy.host, one.host, two.host])
      await assertCopiesOutIdentical(host, 'clients/balanced:v1');
  });
}

describe('docker through a round-robin balancer in front of two replicas on one S3 bucket', () => {
  const run = randomBytes(3).toString('hex');
  let store: SharedStore;
  let replicas: Replicas;
  let work: string;
  let docker: DockerSession;
  let expectedOutput: string;

  before(async () => {
    work = await tempDir('berth-replicas-docker-');
    store = await s3Store();
    replicas = await startReplicas(store);
    docker = await dockerSession(work);
    const app = await busyboxApp(run);
    expectedOutput = app.output;
    await docker.build(`${replicas.proxy.host}/clients-${run}/app:1`, app.context);
  });
  after(async () => {
    // The docker cleanup goes last: it fails the suite if something is left.
    if (work) await removeDir(work);
    await stopReplicas(replicas, store);
    await docker?.cleanup();
  });

  it('pushes, pulls after rmi and runs an image, each replica serving part of every step', async () => {
    const { one, two, proxy } = replicas;
    const image = `${proxy.host}/clients-${run}/app:1`;
    // A 127.0.0.1 registry over plain HTTP, with no insecure-registries entry in the daemon.
    const pushed = pushedDigest(await docker.ok(['push', image]), '1');
    const pushRequests = proxy.requests.length;
    // Round robin gives each replica half the requests, and uploads are more than half of a
    // push (and GETs of a pull), so each replica serves some whatever the order of requests.
    for (const [backend, served] of servedBy(proxy.requests, UPLOAD_METHODS).entries())
      assert.ok(
        served > 0,
        `replica ${backend + 1} served upload requests: ${JSON.stringify(proxy.counts())}`,
      );
    for (const replica of [one, two]) {
      const head = await fetch(`${replica.url}/v2/clients-${run}/app/manifests/1`, {
        method: 'HEAD',
        headers: { Accept: 'application/vnd.docker.distribution.manifest.v2+json' },
      });
      assert.equal(
        head.headers.get('docker-content-digest'),
        pushed,
        `${replica.host} serves what docker pushed`,
      );
    }

    await docker.ok(['rmi', image]);
    assert.equal(await docker.imageId(image), undefined, 'the image is gone from the engine');
    const pulled = await docker.ok(['pull', image]);
    assertAppLayers(pulled, 'Pull complete');
    const pulls = proxy.requests.slice(pushRequests);
    for (const [backend, served] of servedBy(pulls, ['GET']).entries())
      assert.ok(served > 0, `replica ${backend + 1} served GETs of the pull: ${JSON.stringify(pulls)}`);
    assert.equal(await docker.runImage(image), expectedOutput);
  });
});
