import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { StagedObject, StorageDriver } from '../../src/blobstore/driver.js';
import { createFilesystemDriver } from '../../src/blobstore/filesystem.js';
import { layerLinkPath, stagedDataPath, uploadPath } from '../../src/blobstore/layout.js';
import type { Digest } from '../../src/registry/digest.js';
import type { RepositoryName } from '../../src/registry/names.js';
import { purgeIdleUploads } from '../../src/registry/upload-purge.js';
import { removeDir, tempDir } from '../helpers/tmp.js';

const LATER = () => new Date(Date.now() + 60_000);
const LONG_AGO = new Date(0);
const SESSION_A = '11111111-1111-4111-8111-111111111111';
const SESSION_B = '22222222-2222-4222-8222-222222222222';
const DIGEST = `sha256:${'a'.repeat(64)}` as Digest;

describe('upload purge', () => {
  let root: string;
  let driver: StorageDriver;
  before(async () => {
    root = await tempDir('berth-purge-');
    driver = await createFilesystemDriver({ rootDirectory: root });
  });
  after(() => removeDir(root));

  it('an empty store (no repositories yet) has nothing to purge and is not an error', async () => {
    assert.equal(await purgeIdleUploads(driver, LATER()), 0);
  });

  it('deletes sessions idle since before the cutoff, in nested repositories, and nothing else', async () => {
    const sessions = [
      uploadPath('team/app' as RepositoryName, SESSION_A),
      uploadPath('team' as RepositoryName, SESSION_B),
    ];
    const staged: StagedObject[] = [];
    for (const [i, session] of sessions.entries()) {
      const record = await driver.staged.start(stagedDataPath(i === 0 ? SESSION_A : SESSION_B));
      staged.push(await driver.staged.write(record, Readable.from([Buffer.from('bytes')])));
      await driver.putContent(session, Buffer.from(JSON.stringify({ size: 5, staged: staged[i] })));
    }
    await driver.putContent(layerLinkPath('team/app' as RepositoryName, DIGEST), Buffer.alloc(0));

    assert.equal(await purgeIdleUploads(driver, LONG_AGO), 0, 'nothing is older than the epoch');
    assert.equal(await purgeIdleUploads(driver, LATER(), { dryRun: true }), 2);
    for (const session of sessions) await driver.stat(session);

    assert.equal(await purgeIdleUploads(driver, LATER()), 2);
    for (const session of sessions) await assert.rejects(driver.stat(session));
    // The staged bytes went with their sessions: committing them now has nothing to commit.
    for (const record of staged) await assert.rejects(driver.staged.commit(record, '/left/over'));
    await driver.stat(layerLinkPath('team/app' as RepositoryName, DIGEST));
  });
});
