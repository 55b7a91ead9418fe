/**
 * Two sets of registry services over one store, each with its own cache and clock, stand for
 * two processes: what one changes, the other sees within the ttl, and nothing is skipped on
 * the word of a cache.
 */

import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { checkedDriver } from '../../src/blobstore/checked.js';
import { orMissing } from '../../src/blobstore/driver.js';
import { createFilesystemDriver } from '../../src/blobstore/filesystem.js';
import { blobDataPath, layerLinkPath } from '../../src/blobstore/layout.js';
import { createBlobService } from '../../src/registry/blobs.js';
import { createMemoryCache } from '../../src/registry/cache.js';
import type { Digest } from '../../src/registry/digest.js';
import { RegistryError } from '../../src/registry/errors.js';
import { createManifestService } from '../../src/registry/manifests.js';
import type { RepositoryName, Tag } from '../../src/registry/names.js';
import { createReferrerService } from '../../src/registry/referrers.js';
import { createTagService } from '../../src/registry/tags.js';
import { createReferenceGuard } from '../../src/registry/tombstones.js';
import { type FaultyDriver, faultyDriver } from '../helpers/faulty-driver.js';
import { imageManifest, jsonBlob, OCI_MANIFEST, sha256 } from '../helpers/oci.js';
import { removeDir, tempDir } from '../helpers/tmp.js';

const TTL = 1000;

/** One "process": services over the shared driver with a cache on a clock the test moves. */
function processOver(driver: FaultyDriver, ttl = TTL) {
  let time = 0;
  const cache = createMemoryCache({ ttl, now: () => time });
  const guard = createReferenceGuard({ driver, deleteDelayMs: 60_000 });
  const blobs = createBlobService({ driver, cache, deleteEnabled: true, guard });
  const tags = createTagService(driver, cache);
  const manifests = createManifestService({
    guard,
    driver,
    cache,
    blobs,
    tags,
    referrers: createReferrerService(driver),
    deleteEnabled: true,
    limits: { maxDescriptors: 100 },
  });
  return { blobs, tags, manifests, wait: (ms: number) => (time += ms) };
}

const code = (err: unknown) => (err instanceof RegistryError ? err.code : String(err));

describe('caches across processes sharing one store', () => {
  let root: string;
  let driver: FaultyDriver;
  const name = 'shared/app' as RepositoryName;
  const config = jsonBlob({ architecture: 'amd64', os: 'linux' });
  const configDigest = config.descriptor.digest as Digest;

  before(async () => {
    root = await tempDir('berth-staleness-');
    driver = faultyDriver(checkedDriver(await createFilesystemDriver({ rootDirectory: root })));
    await driver.putContent(blobDataPath(configDigest), config.content);
    await driver.putContent(layerLinkPath(name, configDigest), Buffer.alloc(0));
  });
  after(() => removeDir(root));

  /** Counts the storage calls of one kind while `work` runs. */
  async function calls(operation: 'stat' | 'getContent', work: () => Promise<unknown>): Promise<number> {
    let count = 0;
    const remove = driver.inject({ operation, delay: async () => count++ });
    try {
      await work();
    } finally {
      remove();
    }
    return count;
  }

  async function pushManifest(writer: ReturnType<typeof processOver>, tag: string, annotation: string) {
    const body = imageManifest({ config: config.descriptor, layers: [], annotations: { a: annotation } });
    await writer.manifests.put(name, { tag: tag as Tag }, body, { contentType: OCI_MANIFEST });
    return sha256(body) as Digest;
  }

  it('a tag moved through one is served by the other from memory within the ttl, from storage after it', async () => {
    const one = processOver(driver);
    const two = processOver(driver);
    const first = await pushManifest(one, 'moving', 'first');
    assert.equal(await two.tags.resolve(name, 'moving' as Tag), first);
    const second = await pushManifest(one, 'moving', 'second');
    two.wait(TTL - 1);
    const within = await calls('stat', async () => {
      assert.equal(await two.tags.resolve(name, 'moving' as Tag), first, 'may be stale within the ttl');
    });
    assert.equal(within, 0, 'answered from memory');
    two.wait(1);
    assert.equal(await two.tags.resolve(name, 'moving' as Tag), second);
    assert.equal(await one.tags.resolve(name, 'moving' as Tag), second, 'the mover sees its move at once');
  });

  it('with ttl 0 every resolve asks storage and sees a move at once; an unchanged tag costs one stat', async () => {
    const one = processOver(driver);
    const two = processOver(driver, 0);
    const first = await pushManifest(one, 'strict', 'first');
    assert.equal(await two.tags.resolve(name, 'strict' as Tag), first);
    assert.equal(await calls('getContent', () => two.tags.resolve(name, 'strict' as Tag)), 0);
    const second = await pushManifest(one, 'strict', 'second');
    assert.equal(await two.tags.resolve(name, 'strict' as Tag), second);
  });

  it('a manifest deleted and a blob unlinked through one are gone for the other after the ttl', async () => {
    const one = processOver(driver);
    const two = processOver(driver);
    const digest = await pushManifest(one, 'doomed', 'doomed');
    await two.manifests.get(name, { digest });
    await two.blobs.stat(name, configDigest);
    await one.manifests.delete(name, { digest });
    await one.blobs.delete(name, configDigest);
    two.wait(TTL);
    await assert.rejects(two.manifests.get(name, { digest }), (err) => code(err) === 'MANIFEST_UNKNOWN');
    await assert.rejects(two.blobs.stat(name, configDigest), (err) => code(err) === 'BLOB_UNKNOWN');
    await one.blobs.link(name, configDigest);
  });

  it('linking writes the link even when the cache says it exists (another process deleted it)', async () => {
    const one = processOver(driver);
    await one.blobs.link(name, configDigest);
    await one.blobs.stat(name, configDigest);
    await driver.delete(layerLinkPath(name, configDigest));
    await one.blobs.link(name, configDigest);
    const link = await orMissing(driver.stat(layerLinkPath(name, configDigest)), undefined);
    assert.ok(link, 'the link is in storage');
  });
});
