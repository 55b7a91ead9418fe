import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { checkedDriver } from '../../src/blobstore/checked.js';
import type { StorageDriver } from '../../src/blobstore/driver.js';
import { createFilesystemDriver } from '../../src/blobstore/filesystem.js';
import { blobDataPath, layerLinkPath } from '../../src/blobstore/layout.js';
import type { Digest } from '../../src/registry/digest.js';
import type { RepositoryName } from '../../src/registry/names.js';
import type { RunningServer } from '../../src/server.js';
import { startServerOver } from '../helpers/driver-server.js';
import {
  imageManifest,
  jsonBlob,
  OCI_MANIFEST,
  ociError,
  pushBlob,
  pushManifest,
  randomBlob,
  type TestDescriptor,
} from '../helpers/oci.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { removeDir, tempDir } from '../helpers/tmp.js';

const config = jsonBlob({ architecture: 'amd64', os: 'linux' });

describe('manifest size bounds: descriptors and error detail', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ config: { validation: { manifests: { maxdescriptors: 5 } } } });
    await pushBlob(server.url, 'bound/app', config.content);
  });
  after(() => server.close());

  const put = (reference: string, body: Buffer) =>
    request(server.url)
      .put(`/v2/bound/app/manifests/${reference}`)
      .set('Content-Type', OCI_MANIFEST)
      .send(body.toString('utf8'));

  it('a manifest listing more than validation.manifests.maxdescriptors is 400 MANIFEST_INVALID', async () => {
    const layers = Array.from({ length: 5 }, () => randomBlob(10).descriptor);
    const res = await put('too-many', imageManifest({ config: config.descriptor, layers })).expect(400);
    const error = ociError(res.body);
    assert.equal(error.code, 'MANIFEST_INVALID');
    assert.deepEqual(error.detail, { descriptors: 6, limit: 5 });
    assert.match(error.message, /validation\.manifests\.maxdescriptors/);
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: 'application/vnd.oci.image.index.v1+json',
        manifests: layers.concat(layers[0] as TestDescriptor).map((d) => ({ ...d, mediaType: OCI_MANIFEST })),
      }),
    );
    const refused = await request(server.url)
      .put('/v2/bound/app/manifests/index')
      .set('Content-Type', 'application/vnd.oci.image.index.v1+json')
      .send(index.toString('utf8'))
      .expect(400);
    assert.deepEqual(ociError(refused.body).detail, { descriptors: 6, limit: 5 });
  });

  it('a manifest at the bound is checked as usual', async () => {
    const layers = await Promise.all(
      Array.from({ length: 4 }, async () => {
        const blob = randomBlob(10);
        await pushBlob(server.url, 'bound/app', blob.content);
        return blob.descriptor;
      }),
    );
    await pushManifest(
      server.url,
      'bound/app',
      'at-bound',
      imageManifest({ config: config.descriptor, layers }),
    );
  });
});

describe('manifest references: a capped error', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
    await pushBlob(server.url, 'capped/app', config.content);
  });
  after(() => server.close());

  it('names at most 10 missing references, in manifest order, and says how many went unchecked', async () => {
    const layers = Array.from({ length: 500 }, () => randomBlob(10).descriptor);
    const res = await request(server.url)
      .put('/v2/capped/app/manifests/missing')
      .set('Content-Type', OCI_MANIFEST)
      .send(imageManifest({ config: config.descriptor, layers }).toString('utf8'))
      .expect(400);
    const error = ociError(res.body);
    assert.equal(error.code, 'MANIFEST_BLOB_UNKNOWN');
    const detail = error.detail as { missing: string[]; unchecked: number };
    assert.equal(detail.missing.length, 10);
    const order = layers.map((layer) => layer.digest);
    const positions = detail.missing.map((digest) => order.indexOf(digest));
    assert.ok(
      positions.every((position, i) => position >= 0 && (i === 0 || position > (positions[i - 1] ?? 0))),
    );
    assert.ok(detail.unchecked > 400, String(detail.unchecked));
    assert.ok(res.text.length < 2000, String(res.text.length));
  });
});

/**
 * Storage that does one operation at a time, in arrival order, each a little slow: like the
 * filesystem's small thread pool under load, where a flood of lookups queues everyone else.
 */
function oneAtATime(driver: StorageDriver, onOperation: (name: string, path: string) => void): StorageDriver {
  let tail: Promise<unknown> = Promise.resolve();
  return new Proxy(driver, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const run = tail.then(async () => {
          await new Promise((resolve) => setTimeout(resolve, 1));
          const result = await (value as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          onOperation(String(property), String(args[0]));
          return result;
        });
        tail = run.catch(() => {});
        return run;
      };
    },
  });
}

describe('a manifest with many references does not stall other requests', () => {
  const name = 'load/app' as RepositoryName;
  const count = 300;
  let root: string;
  let server: RunningServer;
  let layerLookups = 0;
  let checking: () => void = () => {};
  const layers: TestDescriptor[] = [];

  before(async () => {
    root = await tempDir('berth-load-');
    const inner = checkedDriver(await createFilesystemDriver({ rootDirectory: root }));
    for (let i = 0; i < count; i++) {
      const blob = randomBlob(16);
      const digest = blob.descriptor.digest as Digest;
      await inner.putContent(blobDataPath(digest), blob.content);
      await inner.putContent(layerLinkPath(name, digest), Buffer.alloc(0));
      layers.push(blob.descriptor);
    }
    const driver = oneAtATime(inner, (operation, path) => {
      if (operation !== 'stat' || !path.includes('/_layers/')) return;
      layerLookups++;
      if (layerLookups === 20) checking();
    });
    server = await startServerOver(driver);
    await pushBlob(server.url, name, config.content);
    await pushManifest(server.url, name, 'small', imageManifest({ config: config.descriptor, layers: [] }));
  });
  after(async () => {
    await server.close(100);
    await removeDir(root);
  });

  it('a GET is answered while a push naming 300 layers is still being checked', async () => {
    layerLookups = 0;
    const started = new Promise<void>((resolve) => {
      checking = resolve;
    });
    const push = request(server.url)
      .put(`/v2/${name}/manifests/big`)
      .set('Content-Type', OCI_MANIFEST)
      .send(imageManifest({ config: config.descriptor, layers }).toString('utf8'))
      .then((res) => res);
    await started;
    await request(server.url).get(`/v2/${name}/manifests/small`).expect(200);
    const lookupsWhenAnswered = layerLookups;
    const pushed = await push;
    assert.equal(pushed.status, 201, pushed.text);
    assert.equal(layerLookups, count);
    assert.ok(
      lookupsWhenAnswered < count / 2,
      `the GET waited for ${lookupsWhenAnswered} of the push's ${count} layer lookups`,
    );
  });
});
