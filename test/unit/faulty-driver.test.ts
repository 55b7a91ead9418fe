import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { isNotFound, orMissing } from '../../src/blobstore/driver.js';
import { createFilesystemDriver } from '../../src/blobstore/filesystem.js';
import { createGate, type FaultyDriver, faultyDriver } from '../helpers/faulty-driver.js';
import { removeDir, tempDir } from '../helpers/tmp.js';

describe('faulty driver (test helper)', () => {
  let root: string;
  let driver: FaultyDriver;
  before(async () => {
    root = await tempDir('berth-faulty-');
    driver = faultyDriver(await createFilesystemDriver({ rootDirectory: root }));
  });
  after(() => removeDir(root));

  it('holds a matching operation at a gate before it runs; others pass', async () => {
    await driver.putContent('/a/held', Buffer.from('x'));
    await driver.putContent('/a/free', Buffer.from('y'));
    const gate = createGate();
    driver.inject({ operation: 'delete', path: (path) => path.endsWith('/held'), delay: gate.wait });
    const held = driver.delete('/a/held');
    await gate.reached;
    await driver.delete('/a/free');
    assert.deepEqual(await driver.getContent('/a/held'), Buffer.from('x'), 'not deleted while held');
    gate.open();
    await held;
    assert.equal(await orMissing(driver.stat('/a/held'), undefined), undefined);
    driver.clear();
  });

  it('throws an injected error before (nothing happens) or after (it happened) the operation, `times` times', async () => {
    const refused = new Error('refused');
    driver.inject({ operation: 'putContent', error: refused, times: 1 });
    await assert.rejects(driver.putContent('/b/before', Buffer.from('1')), refused);
    await assert.rejects(driver.getContent('/b/before'), (err: unknown) => isNotFound(err));
    await driver.putContent('/b/before', Buffer.from('2'));
    const lost = new Error('answer lost');
    const remove = driver.inject({ operation: 'putContent', when: 'after', error: lost });
    await assert.rejects(driver.putContent('/b/after', Buffer.from('3')), lost);
    assert.deepEqual(await driver.getContent('/b/after'), Buffer.from('3'));
    remove();
    await driver.putContent('/b/after', Buffer.from('4'));
    assert.deepEqual(await driver.getContent('/b/after'), Buffer.from('4'));
  });
});
