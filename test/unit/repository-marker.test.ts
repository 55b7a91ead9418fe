import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { StorageDriver } from '../../src/blobstore/driver.js';
import { createFilesystemDriver } from '../../src/blobstore/filesystem.js';
import { blobDataPath, CATALOG_ROOT } from '../../src/blobstore/layout.js';
import { createBlobService } from '../../src/registry/blobs.js';
import { createMemoryCache } from '../../src/registry/cache.js';
import { catalogPage } from '../../src/registry/catalog.js';
import { digestOf } from '../../src/registry/digest.js';
import type { RepositoryName } from '../../src/registry/names.js';
import { repositoryExists } from '../../src/registry/repositories.js';
import { createReferenceGuard } from '../../src/registry/tombstones.js';
import { removeDir, tempDir } from '../helpers/tmp.js';

/** A driver whose writes below `prefix` fail while `failing` is true. */
function failingWrites(driver: StorageDriver, prefix: string) {
  const control = { failing: true };
  const wrapped: StorageDriver = {
    ...driver,
    async putContent(path, content, condition) {
      if (control.failing && path.startsWith(prefix)) throw new Error(`injected failure writing ${path}`);
      return driver.putContent(path, content, condition);
    },
  };
  return { driver: wrapped, control };
}

describe('repository markers', () => {
  let root: string;
  let driver: StorageDriver;
  before(async () => {
    root = await tempDir('berth-marker-');
    driver = await createFilesystemDriver({ rootDirectory: root });
  });
  after(() => removeDir(root));

  it('a link whose marker write failed writes the marker on retry, though the link exists and is cached', async () => {
    const name = 'retry/app' as RepositoryName;
    const content = Buffer.from('a layer');
    const digest = digestOf(content, 'sha256');
    await driver.putContent(blobDataPath(digest), content);
    const faulty = failingWrites(driver, CATALOG_ROOT);
    const blobs = createBlobService({
      guard: createReferenceGuard({ driver: faulty.driver, deleteDelayMs: 60_000 }),
      driver: faulty.driver,
      cache: createMemoryCache(),
      deleteEnabled: true,
    });

    await assert.rejects(blobs.link(name, digest), /injected failure/);
    assert.equal(await blobs.linkedSize(name, digest), content.length, 'the link itself was written');
    assert.equal(await repositoryExists(driver, name), false);

    faulty.control.failing = false;
    await blobs.link(name, digest);
    assert.equal(await repositoryExists(driver, name), true);
    const page = await catalogPage(driver, { size: 10 }, () => true);
    assert.deepEqual(page.items, [name]);
  });

  it('a repository without a marker is unknown however much else it holds', async () => {
    assert.equal(await repositoryExists(driver, 'never/pushed' as RepositoryName), false);
  });
});
