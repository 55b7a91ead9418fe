/**
 * Berth processes on one storage root, as replicas would be: a tag moved, a manifest deleted
 * or a blob unlinked through one is seen by the others within `storage.cache.ttl` (at once
 * with ttl 0), and a manifest delete racing a push of the same manifest through another
 * process never leaves a tag pointing at a missing manifest.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { imageManifest, jsonBlob, OCI_MANIFEST, randomBlob, sha256 } from '../helpers/oci.js';
import { removeDir, tempDir } from '../helpers/tmp.js';
import { type BerthProcess, serverErrors, startBerthProcess } from './helpers/berth-process.js';

const REPO = 'replicas/cached';
const TTL_MS = 1000;
/** Beyond the ttl: the request that looks at storage, on a busy two-core machine. */
const MARGIN_MS = 5000;

async function pushBlob(base: string, content: Buffer): Promise<string> {
  const digest = sha256(content);
  const response = await fetch(`${base}/v2/${REPO}/blobs/uploads/?digest=${digest}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/octet-stream' },
    body: content,
  });
  assert.equal(response.status, 201, await response.text());
  return digest;
}

async function putManifest(base: string, reference: string, body: Buffer): Promise<Response> {
  return fetch(`${base}/v2/${REPO}/manifests/${reference}`, {
    method: 'PUT',
    headers: { 'Content-Type': OCI_MANIFEST },
    body,
  });
}

/** The digest a manifest reference answers with, or the HTTP status when it does not. */
async function served(base: string, reference: string): Promise<string | number> {
  const response = await fetch(`${base}/v2/${REPO}/manifests/${reference}`, {
    headers: { Accept: OCI_MANIFEST },
  });
  await response.arrayBuffer();
  return response.ok ? (response.headers.get('docker-content-digest') as string) : response.status;
}

/** Polls until `probe` answers `expected`; resolves with the time that took, throws past the deadline. */
async function seenWithin(
  probe: () => Promise<unknown>,
  expected: unknown,
  deadlineMs: number,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    const answer = await probe();
    if (answer === expected) return Date.now() - started;
    if (Date.now() - started > deadlineMs) {
      throw new Error(`still ${String(answer)} after ${deadlineMs} ms, expected ${String(expected)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('caches of processes sharing one storage root', () => {
  let root: string;
  let one: BerthProcess;
  let two: BerthProcess;
  let strict: BerthProcess;
  const config = jsonBlob({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } });
  const manifest = (note: string) =>
    imageManifest({ config: config.descriptor, layers: [], annotations: { note } });

  before(async () => {
    root = await tempDir('berth-replica-caches-');
    const ttl = (value: string) => ({ root, env: { BERTH_STORAGE_CACHE_TTL: value } });
    [one, two, strict] = await Promise.all([
      startBerthProcess(ttl(`${TTL_MS}ms`)),
      startBerthProcess(ttl(`${TTL_MS}ms`)),
      startBerthProcess(ttl('0')),
    ]);
    await pushBlob(one.url, config.content);
  });
  after(async () => {
    await Promise.all([one?.stop(), two?.stop(), strict?.stop()]);
    await removeDir(root);
    assert.deepEqual(serverErrors([...(one?.logs ?? []), ...(two?.logs ?? []), ...(strict?.logs ?? [])]), []);
  });

  it('a tag moved through one is served by another within the ttl, and at once with ttl 0', async () => {
    const first = manifest('first');
    assert.equal((await putManifest(one.url, 'moving', first)).status, 201);
    assert.equal(await served(two.url, 'moving'), sha256(first));
    assert.equal(await served(strict.url, 'moving'), sha256(first));

    const second = manifest('second');
    assert.equal((await putManifest(one.url, 'moving', second)).status, 201);
    assert.equal(await served(strict.url, 'moving'), sha256(second), 'ttl 0 looks at storage every time');
    await seenWithin(() => served(two.url, 'moving'), sha256(second), TTL_MS + MARGIN_MS);
  });

  it('a manifest deleted and a blob unlinked through one are gone for another within the ttl', async () => {
    const body = manifest('doomed');
    const layer = randomBlob(64);
    const layerDigest = await pushBlob(one.url, layer.content);
    assert.equal((await putManifest(one.url, 'doomed', body)).status, 201);
    const blobStatus = async (base: string) =>
      (await fetch(`${base}/v2/${REPO}/blobs/${layerDigest}`, { method: 'HEAD' })).status;
    for (const base of [two.url, strict.url]) {
      assert.equal(await served(base, sha256(body)), sha256(body));
      assert.equal(await blobStatus(base), 200);
    }

    const deleted = await fetch(`${one.url}/v2/${REPO}/manifests/${sha256(body)}`, { method: 'DELETE' });
    assert.equal(deleted.status, 202);
    const unlinked = await fetch(`${one.url}/v2/${REPO}/blobs/${layerDigest}`, { method: 'DELETE' });
    assert.equal(unlinked.status, 202);
    assert.equal(await served(strict.url, sha256(body)), 404);
    assert.equal(await blobStatus(strict.url), 404);
    await seenWithin(() => served(two.url, sha256(body)), 404, TTL_MS + MARGIN_MS);
    await seenWithin(() => blobStatus(two.url), 404, TTL_MS + MARGIN_MS);
  });

  it('a delete through one racing a push of the same manifest under a new tag through another leaves every tag served', async () => {
    const body = manifest('raced');
    const digest = sha256(body);
    for (let round = 0; round < 40; round++) {
      assert.equal((await putManifest(one.url, `r${round}-old`, body)).status, 201);
      const [deleted, pushed] = await Promise.all([
        fetch(`${one.url}/v2/${REPO}/manifests/${digest}`, { method: 'DELETE' }),
        putManifest(two.url, `r${round}-new`, body),
      ]);
      assert.equal(deleted.status, 202, `round ${round}`);
      assert.equal(pushed.status, 201, `round ${round}`);
      const listed = await fetch(`${strict.url}/v2/${REPO}/tags/list`);
      const { tags } = (await listed.json()) as { tags: string[] };
      for (const tag of tags) {
        const answer = await served(strict.url, tag);
        assert.equal(typeof answer, 'string', `round ${round}: tag ${tag} answers ${answer}`);
      }
    }
  });
});
