import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  lockFileName,
  STALE_TEMP_FILE_AGE_MS,
  sweepStaleTempFiles,
  tempFileName,
} from '../../../src/blobstore/temp-files.js';
import { removeDir, tempDir, writeAgedFile } from '../../helpers/tmp.js';

describe('stale temp files', () => {
  let root: string;
  before(async () => {
    root = await tempDir('berth-temp-');
  });
  after(() => removeDir(root));

  it('sweeps only temp files older than the bound, anywhere in the tree', async () => {
    const tags = path.join(root, 'repositories/team/app/_manifests/tags');
    const oldTemp = path.join(tags, tempFileName());
    const oldNested = path.join(root, 'repositories/a/_manifests/revisions/sha256', tempFileName());
    const freshTemp = path.join(tags, tempFileName());
    const oldObject = path.join(tags, 'v1');
    await writeAgedFile(oldTemp, STALE_TEMP_FILE_AGE_MS + 60_000);
    await writeAgedFile(oldNested, 10 * STALE_TEMP_FILE_AGE_MS);
    await writeAgedFile(freshTemp, STALE_TEMP_FILE_AGE_MS - 60_000);
    await writeAgedFile(oldObject, 10 * STALE_TEMP_FILE_AGE_MS);

    assert.equal(await sweepStaleTempFiles(root, { dryRun: true }), 2);
    assert.equal((await readdir(tags)).length, 3, 'a dry run deletes nothing');
    assert.equal(await sweepStaleTempFiles(root), 2);
    assert.deepEqual((await readdir(tags)).sort(), [path.basename(freshTemp), 'v1'].sort());
    assert.deepEqual(await readdir(path.dirname(oldNested)), []);
    assert.equal(await sweepStaleTempFiles(root, { now: Date.now() + STALE_TEMP_FILE_AGE_MS }), 1);
  });

  it('sweeps lock files a crashed conditional write left, once as old as the bound', async () => {
    const tags = path.join(root, 'repositories/locks/_manifests/tags');
    const oldLock = path.join(tags, lockFileName('v1'));
    await writeAgedFile(oldLock, STALE_TEMP_FILE_AGE_MS + 60_000);
    await writeAgedFile(`${oldLock}.0a1b2c.stale`, STALE_TEMP_FILE_AGE_MS + 60_000);
    await writeAgedFile(path.join(tags, lockFileName('v2')), 60_000);
    assert.equal(await sweepStaleTempFiles(root), 2);
    assert.deepEqual(await readdir(tags), [lockFileName('v2')]);
  });

  it('a missing root has nothing to sweep', async () => {
    assert.equal(await sweepStaleTempFiles(path.join(root, 'nowhere')), 0);
  });
});
