/**
 * Pull records (src/registry/pull-records.ts) on the filesystem driver: at most one write per
 * tag per interval per process, in the background, bounded memory, and a failed write retried
 * by the next pull.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { StorageDriver } from '../../src/blobstore/driver.js';
import { createFilesystemDriver } from '../../src/blobstore/filesystem.js';
import { pullRecordPath } from '../../src/blobstore/layout.js';
import type { RepositoryName, Tag } from '../../src/registry/names.js';
import {
  createPullRecorder,
  PULL_RECORD_INTERVAL_MS,
  readPullTimes,
} from '../../src/registry/pull-records.js';
import { faultyDriver } from '../helpers/faulty-driver.js';
import { removeDir, tempDir } from '../helpers/tmp.js';

const NAME = 'pulls/app' as RepositoryName;
const HOUR = PULL_RECORD_INTERVAL_MS;

/** A driver that counts the pull record writes it passes on. */
function counting(inner: StorageDriver): { driver: StorageDriver; writes: string[] } {
  const writes: string[] = [];
  const driver = faultyDriver(inner);
  const putContent = driver.putContent.bind(driver);
  driver.putContent = (path, content, condition) => {
    writes.push(path);
    return putContent(path, content, condition);
  };
  return { driver, writes };
}

describe('pull records', () => {
  let root: string;
  let inner: StorageDriver;
  before(async () => {
    root = await tempDir('berth-pulls-');
    inner = await createFilesystemDriver({ rootDirectory: root });
  });
  after(() => removeDir(root));

  it('two pulls in a row write once; a pull an hour later writes again', async () => {
    const { driver, writes } = counting(inner);
    let clock = 1_000_000;
    const pulls = createPullRecorder({ driver, now: () => clock });
    pulls.record(NAME, 'v1' as Tag);
    pulls.record(NAME, 'v1' as Tag);
    await pulls.settled();
    assert.deepEqual(writes, [pullRecordPath(NAME, 'v1' as Tag)]);
    clock += HOUR - 1;
    pulls.record(NAME, 'v1' as Tag);
    await pulls.settled();
    assert.equal(writes.length, 1, 'within the hour: no write');
    clock += 1;
    pulls.record(NAME, 'v1' as Tag);
    await pulls.settled();
    assert.equal(writes.length, 2, 'an hour after the last write: written again');
    assert.equal(
      (await inner.getContent(pullRecordPath(NAME, 'v1' as Tag))).toString(),
      new Date(clock).toISOString(),
    );
  });

  it('each tag has its own record', async () => {
    const { driver, writes } = counting(inner);
    const pulls = createPullRecorder({ driver, now: () => 5 });
    pulls.record(NAME, 'a' as Tag);
    pulls.record(NAME, 'b' as Tag);
    pulls.record('pulls/other' as RepositoryName, 'a' as Tag);
    await pulls.settled();
    assert.equal(writes.length, 3);
    const times = await readPullTimes(inner, NAME);
    assert.ok(times.has('a' as Tag) && times.has('b' as Tag));
  });

  it('remembers a bounded number of tags, forgetting the oldest first', async () => {
    const { driver, writes } = counting(inner);
    const pulls = createPullRecorder({ driver, now: () => 7, maxTags: 2 });
    for (const tag of ['m1', 'm2', 'm3', 'm3', 'm2', 'm1']) pulls.record(NAME, tag as Tag);
    await pulls.settled();
    assert.deepEqual(
      writes.map((path) => path.split('/').pop()),
      ['m1', 'm2', 'm3', 'm1'],
      'm1 was forgotten when m3 came; m2 and m3 were still remembered',
    );
  });

  it('a failed write is logged at debug, never thrown, and the next pull writes again', async () => {
    const driver = faultyDriver(inner);
    const stop = driver.inject({ operation: 'putContent', error: new Error('store down'), times: 1 });
    const logged: string[] = [];
    const pulls = createPullRecorder({
      driver,
      now: () => 9,
      logger: { debug: (message) => logged.push(message) },
    });
    pulls.record(NAME, 'flaky' as Tag);
    await pulls.settled();
    assert.deepEqual(logged, ['recording a pull failed']);
    assert.equal((await readPullTimes(inner, NAME)).has('flaky' as Tag), false);
    stop();
    pulls.record(NAME, 'flaky' as Tag);
    await pulls.settled();
    assert.equal((await readPullTimes(inner, NAME)).has('flaky' as Tag), true);
  });

  it('writes nothing while paused (storage is full), and records the next pull after', async () => {
    const { driver, writes } = counting(inner);
    let full = true;
    const pulls = createPullRecorder({ driver, now: () => 11, paused: () => full });
    pulls.record(NAME, 'full' as Tag);
    await pulls.settled();
    assert.deepEqual(writes, []);
    full = false;
    pulls.record(NAME, 'full' as Tag);
    await pulls.settled();
    assert.equal(writes.length, 1);
  });

  it('a repository without pull records has no pull times', async () => {
    assert.equal((await readPullTimes(inner, 'pulls/none' as RepositoryName)).size, 0);
  });
});
