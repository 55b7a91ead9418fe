import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { isNotFound, StorageUnavailableError } from '../../src/blobstore/driver.js';
import { createFilesystemDriver } from '../../src/blobstore/filesystem.js';
import { type DriverCall, type FaultyDriver, faultyDriver, gate } from '../helpers/faulty-driver.js';
import { removeDir, tempDir } from '../helpers/tmp.js';

describe('faulty driver (test helper)', () => {
  let root: string;
  let faulty: FaultyDriver;
  before(async () => {
    root = await tempDir('berth-faulty-');
    faulty = faultyDriver(await createFilesystemDriver({ rootDirectory: root }));
  });
  after(() => removeDir(root));

  it('passes everything through while no fault is injected', async () => {
    const { driver } = faulty;
    assert.equal(driver.name, 'filesystem');
    assert.equal(driver.conditionalWrites, true);
    const version = await driver.putContent('/pass/file', Buffer.from('x'));
    assert.equal((await driver.getVersioned('/pass/file')).version, version);
    assert.deepEqual(await driver.list('/pass'), ['file']);
  });

  it('fails the matching calls only, as many times as said', async () => {
    const { driver } = faulty;
    const outage = () => new StorageUnavailableError('store unreachable');
    faulty.inject({
      when: (call) => call.operation === 'getContent' && call.path === '/f/a',
      fail: outage,
      times: 2,
    });
    await driver.putContent('/f/a', Buffer.from('a'));
    await driver.putContent('/f/b', Buffer.from('b'));
    await assert.rejects(driver.getContent('/f/a'), StorageUnavailableError);
    assert.equal((await driver.getContent('/f/b')).toString(), 'b');
    await assert.rejects(driver.getContent('/f/a'), StorageUnavailableError);
    assert.equal((await driver.getContent('/f/a')).toString(), 'a', 'the fault is used up');
  });

  it('holds a call at a gate before it reaches the driver, and runs after-hooks once it is done', async () => {
    const { driver } = faulty;
    const held = gate();
    const seenAfter: boolean[] = [];
    const remove = faulty.inject({
      when: (call) => call.operation === 'putContent' && call.path === '/g/file',
      before: held.wait,
      after: async () => {
        seenAfter.push(
          await faulty.driver.stat('/g/file').then(
            () => true,
            (err) => !isNotFound(err),
          ),
        );
      },
    });
    const write = driver.putContent('/g/file', Buffer.from('late'));
    await driver.putContent('/g/other', Buffer.from('not held'));
    await assert.rejects(driver.stat('/g/file'), (err: unknown) => isNotFound(err));
    held.open();
    await write;
    assert.deepEqual(seenAfter, [true]);
    remove();
    await driver.putContent('/g/file', Buffer.from('again'));
    assert.deepEqual(seenAfter, [true], 'a removed fault no longer acts');
  });

  it('names staged calls by their record and commits by their destination', async () => {
    const { driver } = faulty;
    const calls: DriverCall[] = [];
    faulty.inject({
      when: (call) => call.operation.startsWith('staged.'),
      before: (call) => void calls.push(call),
    });
    const staged = await driver.staged.write(
      await driver.staged.start('/data/up/upload-1'),
      Readable.from(['abc']),
    );
    await driver.staged.commit(staged, '/blobs/ab/abc');
    faulty.clear();
    assert.deepEqual(
      calls.map((call) => [call.operation, call.path.includes('upload-1') ? 'upload-1' : call.path]),
      [
        ['staged.start', 'upload-1'],
        ['staged.write', 'upload-1'],
        ['staged.commit', '/blobs/ab/abc'],
      ],
    );
    assert.equal((await driver.getContent('/blobs/ab/abc')).toString(), 'abc');
  });
});
