import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import request from 'supertest';
import { orMissing, type StorageDriver } from '../../src/blobstore/driver.js';
import {
  CATALOG_ROOT,
  catalogEntryName,
  catalogEntryPath,
  migrationDonePath,
} from '../../src/blobstore/layout.js';
import type { RepositoryName } from '../../src/registry/names.js';
import { ociError, pushBlob, pushImage, randomBlob } from '../helpers/oci.js';
import { ON_FILESYSTEM, startTestServer, type TestServer } from '../helpers/server.js';
import { removeDir } from '../helpers/tmp.js';

const REPOSITORIES = ['library/ubuntu', 'old/app', 'old/blobs-only', 'x'];

/** Stores written by an older Berth exist only on the filesystem (S3 came with the catalog). */
const OLDER_STORE_DRIVER = { storage: ON_FILESYSTEM };

/**
 * A storage root as a Berth from before the catalog index leaves it: repositories pushed
 * through the API, then the catalog markers and the migration record removed.
 */
async function olderStore(): Promise<{ root: string; driver: StorageDriver }> {
  const server = await startTestServer({ config: OLDER_STORE_DRIVER });
  await pushImage(server.url, 'old/app', 'v1');
  await pushImage(server.url, 'library/ubuntu', 'latest');
  await pushImage(server.url, 'x', '1');
  await pushBlob(server.url, 'old/blobs-only', randomBlob(16).content);
  await request(server.url).post('/v2/only/uploading/blobs/uploads/').expect(202);
  await server.stop();
  const { driver, root } = server;
  await forgetCatalog(driver);
  return { root, driver };
}

async function forgetCatalog(driver: StorageDriver): Promise<void> {
  await orMissing(driver.delete(CATALOG_ROOT), undefined);
  await orMissing(driver.delete(migrationDonePath('catalog')), undefined);
}

function migrationLogs(server: TestServer): Array<{ repositories: number }> {
  return server.logs
    .map((line) => JSON.parse(line) as { msg: string; repositories: number })
    .filter((line) => line.msg.startsWith('catalog index built'));
}

async function catalogOf(server: TestServer): Promise<string[]> {
  return (await request(server.url).get('/v2/_catalog').expect(200)).body.repositories;
}

/** Starts Berth on `root`, hands it to `use`, and stops it (keeping the root) whatever happens. */
async function withServer<T>(root: string, use: (server: TestServer) => Promise<T>): Promise<T> {
  const server = await startTestServer({ root, config: OLDER_STORE_DRIVER });
  try {
    return await use(server);
  } finally {
    await server.stop();
  }
}

describe('catalog migration of a store written before the catalog index', () => {
  let root: string;
  let driver: StorageDriver;
  before(async () => {
    ({ root, driver } = await olderStore());
  });
  beforeEach(() => forgetCatalog(driver));
  after(() => removeDir(root));

  it('the older store really has no catalog', async () => {
    assert.equal(await orMissing(driver.list(CATALOG_ROOT), undefined), undefined);
  });

  it('start-up marks every repository once and logs how many; the next start-up does nothing', async () => {
    await withServer(root, async (first) => {
      assert.deepEqual(await catalogOf(first), REPOSITORIES);
      assert.deepEqual(
        migrationLogs(first).map((line) => line.repositories),
        [REPOSITORIES.length],
      );
      const tags = await request(first.url).get('/v2/old/app/tags/list').expect(200);
      assert.deepEqual(tags.body.tags, ['v1']);
      const untagged = await request(first.url).get('/v2/old/blobs-only/tags/list').expect(200);
      assert.deepEqual(untagged.body.tags, []);
      const uploading = await request(first.url).get('/v2/only/uploading/tags/list').expect(404);
      assert.equal(ociError(uploading.body).code, 'NAME_UNKNOWN');
    });
    await withServer(root, async (second) => {
      assert.deepEqual(migrationLogs(second), []);
      assert.deepEqual(await catalogOf(second), REPOSITORIES);
    });
  });

  it('a migration that marked some repositories but did not finish is finished by the next start-up', async () => {
    await driver.putContent(catalogEntryPath('old/app' as RepositoryName), new Uint8Array(0));
    await withServer(root, async (server) => {
      assert.deepEqual(await catalogOf(server), REPOSITORIES);
      assert.ok(await driver.stat(migrationDonePath('catalog')));
    });
  });

  it('two processes starting on the same older store at once both end with the whole catalog', async () => {
    const [one, two] = await Promise.all([
      startTestServer({ root, config: OLDER_STORE_DRIVER }),
      startTestServer({ root, config: OLDER_STORE_DRIVER }),
    ]);
    try {
      assert.deepEqual(await catalogOf(one), REPOSITORIES);
      assert.deepEqual(await catalogOf(two), REPOSITORIES);
      assert.deepEqual(
        await driver.list(CATALOG_ROOT),
        REPOSITORIES.map((name) => catalogEntryName(name as RepositoryName)),
      );
    } finally {
      await Promise.all([one.stop(), two.stop()]);
    }
  });
});
