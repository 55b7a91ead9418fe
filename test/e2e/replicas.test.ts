/**
 * Two Berth processes on one store, as replicas behind a load balancer would be: upload
 * sessions hop between them, races on one session have one winner, and what one pushes the
 * other serves.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { jsonBlob, OCI_MANIFEST, randomBlob, sha256 } from '../helpers/oci.js';
import { waitFor } from '../helpers/wait.js';
import { type BerthProcess, serverErrors } from './helpers/berth-process.js';
import { SHARED_STORES, type SharedStore, startReplicaPair } from './helpers/shared-store.js';

const REPO = 'replicas/app';

async function startSession(base: string): Promise<string> {
  const response = await fetch(`${base}/v2/${REPO}/blobs/uploads/`, { method: 'POST' });
  assert.equal(response.status, 202);
  return response.headers.get('location') as string;
}

function patch(base: string, location: string, body: Buffer, start: number): Promise<Response> {
  return fetch(`${base}${location}`, {
    method: 'PATCH',
    headers: {
      'Content-Type': 'application/octet-stream',
      'Content-Range': `${start}-${start + body.length - 1}`,
    },
    body,
  });
}

async function pushBlob(base: string, content: Buffer): Promise<void> {
  const location = await startSession(base);
  const response = await fetch(`${base}${location}?digest=${sha256(content)}`, {
    method: 'PUT',
    body: content,
  });
  assert.equal(response.status, 201);
}

for (const [label, openStore] of SHARED_STORES) {
  describe(`two replicas on ${label}`, () => replicaTests(openStore));
}

function replicaTests(openStore: () => Promise<SharedStore>): void {
  let store: SharedStore;
  let one: BerthProcess;
  let two: BerthProcess;
  before(async () => {
    store = await openStore();
    [one, two] = await startReplicaPair(store);
  });
  after(async () => {
    await Promise.all([one?.stop(), two?.stop()]);
    await store?.dispose();
    assert.deepEqual(serverErrors([...(one?.logs ?? []), ...(two?.logs ?? [])]), []);
  });

  it('the same Content-Range PATCHed through both at once is acknowledged exactly once', async () => {
    for (let round = 0; round < 12; round += 1) {
      const location = await startSession(one.url);
      const bodies = [randomBytes(1000), randomBytes(1000)];
      const answers = await Promise.all([
        patch(one.url, location, bodies[0] as Buffer, 0),
        patch(two.url, location, bodies[1] as Buffer, 0),
      ]);
      const statuses = answers.map((answer) => answer.status).sort();
      assert.deepEqual(statuses, [202, 416], `round ${round}: one chunk wins, the other is refused`);
      const loser = answers.find((answer) => answer.status === 416) as Response;
      // Refused while the winner streams (nothing acknowledged yet) or after it finished.
      assert.ok(
        ['0-0', '0-999'].includes(loser.headers.get('range') ?? ''),
        'the refusal says where the upload stands',
      );
      const winner = bodies[answers.findIndex((answer) => answer.status === 202)] as Buffer;
      const status = await fetch(`${two.url}${location}`);
      assert.equal(status.headers.get('range'), '0-999', 'the session holds 1000 bytes, not 2000');
      const done = await fetch(`${two.url}${location}?digest=${sha256(winner)}`, { method: 'PUT' });
      assert.equal(done.status, 201, 'the winning bytes complete the blob');
      const pulled = await fetch(`${one.url}/v2/${REPO}/blobs/${sha256(winner)}`);
      assert.deepEqual(Buffer.from(await pulled.arrayBuffer()), winner);
    }
  });

  it('a chunked upload hops between the replicas chunk by chunk and completes on either', async () => {
    const content = randomBytes(3 * 1024 * 1024 + 17);
    const cuts = [0, 1024 * 1024, 2 * 1024 * 1024 + 5, content.length];
    const location = await startSession(one.url);
    for (let i = 0; i + 1 < cuts.length; i += 1) {
      const base = i % 2 === 0 ? two.url : one.url;
      const chunk = content.subarray(cuts[i], cuts[i + 1]);
      const answer = await patch(base, location, chunk, cuts[i] as number);
      assert.equal(answer.status, 202);
      assert.equal(answer.headers.get('range'), `0-${(cuts[i + 1] as number) - 1}`);
    }
    const done = await fetch(`${two.url}${location}?digest=${sha256(content)}`, { method: 'PUT' });
    assert.equal(done.status, 201);
    const pulled = await fetch(`${one.url}/v2/${REPO}/blobs/${sha256(content)}`);
    assert.equal(pulled.status, 200);
    assert.equal(sha256(Buffer.from(await pulled.arrayBuffer())), sha256(content));
  });

  it('an image pushed through one replica pulls through the other', async () => {
    const layer = randomBlob(64 * 1024);
    const config = jsonBlob({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } });
    await pushBlob(one.url, layer.content);
    await pushBlob(one.url, config.content);
    const manifest = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_MANIFEST,
        config: config.descriptor,
        layers: [layer.descriptor],
      }),
    );
    const put = await fetch(`${one.url}/v2/${REPO}/manifests/v1`, {
      method: 'PUT',
      headers: { 'Content-Type': OCI_MANIFEST },
      body: manifest,
    });
    assert.equal(put.status, 201);
    const got = await fetch(`${two.url}/v2/${REPO}/manifests/v1`, { headers: { Accept: OCI_MANIFEST } });
    assert.equal(got.status, 200);
    assert.deepEqual(Buffer.from(await got.arrayBuffer()), manifest);
    const blob = await fetch(`${two.url}/v2/${REPO}/blobs/${layer.descriptor.digest}`);
    assert.deepEqual(Buffer.from(await blob.arrayBuffer()), layer.content);
  });

  it('a tag moved through one replica is served by the other within storage.cache.ttl', async () => {
    const config = jsonBlob({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } });
    await pushBlob(one.url, config.content);
    const manifests = ['first', 'second'].map((label) => {
      const layer = randomBlob(1024);
      return {
        layer,
        body: Buffer.from(
          JSON.stringify({
            schemaVersion: 2,
            mediaType: OCI_MANIFEST,
            config: config.descriptor,
            layers: [layer.descriptor],
            annotations: { label },
          }),
        ),
      };
    });
    const tagAt = async (body: Buffer) => {
      const put = await fetch(`${one.url}/v2/${REPO}/manifests/moving`, {
        method: 'PUT',
        headers: { 'Content-Type': OCI_MANIFEST },
        body,
      });
      assert.equal(put.status, 201);
    };
    const servedByTwo = async () => {
      const got = await fetch(`${two.url}/v2/${REPO}/manifests/moving`, {
        headers: { Accept: OCI_MANIFEST },
      });
      return Buffer.from(await got.arrayBuffer());
    };
    for (const { layer } of manifests) await pushBlob(one.url, layer.content);
    const [earlier, later] = manifests.map((manifest) => manifest.body) as [Buffer, Buffer];
    await tagAt(earlier);
    assert.deepEqual(await servedByTwo(), earlier, 'the other replica caches it now');
    await tagAt(later);
    // The default ttl is 1 s; the margin is for a loaded machine, not for a looser bound.
    await waitFor(async () => (await servedByTwo()).equals(later), 1000 + 4000);
  });
}
