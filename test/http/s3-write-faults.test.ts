/**
 * A manifest PUT on S3 whose writes fail one at a time (the test proxy answers the chosen
 * PutObject with 500 for as long as the SDK retries): the client gets 503 UNAVAILABLE, a tag
 * keeps pointing at a manifest that exists (the one it had, or none), a manifest is either
 * missing or whole, and the same PUT succeeds once the store behaves. Runs on s3rver in every
 * suite run; the store going away altogether is s3-outage.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import {
  imageManifest,
  jsonBlob,
  OCI_MANIFEST,
  ociError,
  pushBlob,
  pushImage,
  randomBlob,
  sha256,
} from '../helpers/oci.js';
import { type S3TestServer, startS3Server } from '../helpers/s3-server.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('manifest writes failing on S3', () => {
  let s3: S3TestServer;
  let server: TestServer;
  before(async () => {
    s3 = await startS3Server({ conditional: true });
    server = await startTestServer({ config: { storage: s3.storageConfig('faults') } });
  });
  after(async () => {
    await server?.close();
    await s3?.dispose();
  });

  const failingWrites = [
    { write: 'its manifest', key: /\/_manifests\/revisions\// },
    {
      write: 'its tag (its manifest written)',
      key: /\/_manifests\/tags\/v1$/,
      written: /\/_manifests\/revisions\//,
    },
  ];
  for (const [i, failing] of failingWrites.entries()) {
    for (const moved of [false, true]) {
      const tag = moved ? 'a tag that pointed at another manifest keeps it' : 'a new tag stays unknown';
      it(`a manifest PUT whose write of ${failing.write} fails is 503, ${tag}, and the retry works`, async () => {
        const name = `faults/manifest-${i}-${moved ? 'moved' : 'new'}`;
        const old = moved ? (await pushImage(server.url, name, 'v1')).manifest : undefined;
        const body = await pushImageBlobs(server.url, name);
        const seen = s3.requests.length;
        const undo = s3.inject({
          operation: 'PutObject',
          key: failing.key,
          status: 500,
          code: 'InternalError',
          times: 100,
        });
        try {
          const refused = await putManifest(server.url, name, 'v1', body);
          assert.equal(refused.status, 503, refused.text);
          assert.equal(ociError(refused.body).code, 'UNAVAILABLE');
        } finally {
          undo();
        }
        const writes = s3.requests.slice(seen).filter((r) => r.operation === 'PutObject');
        assert.ok(
          writes.some((r) => failing.key.test(r.key) && r.status === 500),
          'the fault hit the write meant',
        );
        if (failing.written) {
          const { written } = failing;
          assert.ok(
            writes.some((r) => written.test(r.key) && r.status === 200),
            'the earlier write succeeded',
          );
        }
        await assertManifest(server.url, name, 'v1', old);
        await assertManifest(server.url, name, sha256(body), body, { mayBeMissing: true });
        const retried = await putManifest(server.url, name, 'v1', body);
        assert.equal(retried.status, 201, retried.text);
        await assertManifest(server.url, name, 'v1', body);
        await assertManifest(server.url, name, sha256(body), body);
      });
    }
  }
});

/** Pushes a fresh config and layer to `name`; resolves with a manifest referencing them. */
async function pushImageBlobs(url: string, name: string): Promise<Buffer> {
  const layer = randomBlob(1000);
  const config = jsonBlob({ architecture: 'amd64', os: 'linux', layer: layer.descriptor.digest });
  await pushBlob(url, name, layer.content);
  await pushBlob(url, name, config.content);
  return imageManifest({ config: config.descriptor, layers: [layer.descriptor] });
}

function putManifest(url: string, name: string, reference: string, body: Buffer) {
  return request(url)
    .put(`/v2/${name}/manifests/${reference}`)
    .set('Content-Type', OCI_MANIFEST)
    .send(body.toString('utf8'));
}

/**
 * Asserts that `reference` answers exactly `expected`, or 404 MANIFEST_UNKNOWN when it is
 * undefined or (with `mayBeMissing`) instead: never an error, never other bytes.
 */
async function assertManifest(
  url: string,
  name: string,
  reference: string,
  expected: Buffer | undefined,
  { mayBeMissing = false } = {},
): Promise<void> {
  const got = await request(url).get(`/v2/${name}/manifests/${reference}`).set('Accept', OCI_MANIFEST);
  if (got.status === 404 && (expected === undefined || mayBeMissing)) {
    assert.equal(ociError(got.body).code, 'MANIFEST_UNKNOWN');
    return;
  }
  assert.equal(got.status, 200, `${reference}: ${got.text}`);
  assert.equal(got.text, expected?.toString('utf8'), `${reference} answers the manifest expected`);
}
