import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { appendFile, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import type { Leftover, StorageDriver } from '../../../src/blobstore/driver.js';
import { createFilesystemDriver } from '../../../src/blobstore/filesystem.js';
import { removeDir, tempDir } from '../../helpers/tmp.js';
import { runDriverContract } from './contract.js';

/** Every dot-file (the driver's temp and lock files) anywhere under `root`. */
async function dotFilesUnder(root: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (entry.name.startsWith('.')) found.push(path.join(entry.parentPath ?? entry.path, entry.name));
  }
  return found;
}

runDriverContract('filesystem', async () => {
  const root = await tempDir('berth-fs-driver-');
  return {
    driver: await createFilesystemDriver({ rootDirectory: root }),
    leftovers: () => dotFilesUnder(root),
    dispose: () => removeDir(root),
  };
});

/**
 * One process of the cross-process test: `count` conditional increments of `/counter`, each
 * retried until its write is not refused.
 */
const INCREMENTS = `
const { createFilesystemDriver } = await import(process.env.DRIVER_MODULE);
const { isPreconditionFailed } = await import(process.env.ERRORS_MODULE);
const driver = await createFilesystemDriver({ rootDirectory: process.env.ROOT });
await driver.putContent('/ready/' + process.pid, new Uint8Array());
while ((await driver.list('/ready')).length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
let conflicts = 0;
for (let i = 0; i < Number(process.env.COUNT); i++) {
  for (;;) {
    const { content, version } = await driver.getVersioned('/counter');
    const next = Buffer.from(String(Number(content.toString()) + 1));
    try {
      await driver.putContent('/counter', next, { ifMatch: version });
      break;
    } catch (err) {
      if (!isPreconditionFailed(err)) throw err;
      conflicts++;
    }
  }
}
process.stdout.write(String(conflicts));
`;

describe('filesystem driver', () => {
  let root: string;
  let driver: StorageDriver;
  before(async () => {
    root = await tempDir('berth-fs-only-');
    driver = await createFilesystemDriver({ rootDirectory: root });
  });
  after(() => removeDir(root));

  it('two processes incrementing one counter with conditional writes lose no increment', {
    timeout: 300_000,
  }, async () => {
    await driver.putContent('/counter', Buffer.from('0'));
    const env = {
      ...process.env,
      ROOT: root,
      COUNT: '200',
      DRIVER_MODULE: new URL('../../../src/blobstore/filesystem.js', import.meta.url).href,
      ERRORS_MODULE: new URL('../../../src/blobstore/driver.js', import.meta.url).href,
    };
    const run = () =>
      promisify(execFile)(process.execPath, ['--input-type=module', '-e', INCREMENTS], { env });
    const outputs = await Promise.all([run(), run()]);
    assert.equal((await readFile(path.join(root, 'counter'))).toString(), '400');
    const conflicts = outputs.map((output) => Number(output.stdout));
    assert.ok(conflicts.every(Number.isInteger), `each process reports its conflicts: ${conflicts}`);
    assert.deepEqual(await dotFilesUnder(root), [], 'no lock or temp file is left');
  });

  it('a write cuts off bytes beyond the acknowledged size, which commit refuses to publish', async () => {
    const staged = await driver.staged.write(
      await driver.staged.start('/data/cr/crashed'),
      Readable.from(['abc']),
    );
    await appendFile(path.join(root, 'data/cr/crashed'), 'left by a writer that crashed');
    await assert.rejects(
      driver.staged.commit(staged, '/blobs/cr/crashed'),
      /holds 32 bytes where 3 were written/,
    );
    const next = await driver.staged.write(staged, Readable.from(['def']));
    assert.equal(next.size, 6);
    await driver.staged.commit(next, '/blobs/cr/crashed');
    assert.equal((await driver.getContent('/blobs/cr/crashed')).toString(), 'abcdef');
  });

  it('staged data shorter than acknowledged, or a record of another kind, is refused', async () => {
    const staged = await driver.staged.write(
      await driver.staged.start('/data/sh/short'),
      Readable.from(['abcdef']),
    );
    await writeFile(path.join(root, 'data/sh/short'), 'abc');
    await assert.rejects(
      driver.staged.write(staged, Readable.from(['g'])),
      /holds 3 bytes where 6 were written/,
    );
    await assert.rejects(
      driver.staged.write({ size: 0, key: 'x' }, Readable.from([])),
      /not a filesystem staged object/,
    );
    await assert.rejects(
      driver.staged.commit({ size: 0, file: '/../../etc/passwd' }, '/blobs/sh/x'),
      /invalid storage path/,
    );
    await driver.staged.discard(staged);
  });

  it('successive conditional replacements never repeat a version, even in one clock tick', async () => {
    let version = await driver.putContent('/aba/object', Buffer.from('0'));
    const seen = new Set([version]);
    for (let i = 1; i <= 100; i++) {
      version = await driver.putContent('/aba/object', Buffer.from(String(i % 10)), { ifMatch: version });
      assert.ok(!seen.has(version), `version ${version} came back at write ${i}`);
      seen.add(version);
    }
  });

  it('a conditional write takes over the lock of a process that died', async () => {
    const first = await driver.putContent('/locked/object', Buffer.from('one'));
    await writeFile(path.join(root, 'locked/.lock-object'), `2147483646 0123456789abcdef`);
    await driver.putContent('/locked/object', Buffer.from('two'), { ifMatch: first });
    assert.equal((await driver.getContent('/locked/object')).toString(), 'two');
    assert.deepEqual(await readdir(path.join(root, 'locked')), ['object']);
  });

  it('leftovers: temp and lock files older than the date are listed anywhere and removed, younger ones not', async () => {
    await driver.putContent('/left/over/object', Buffer.from('kept'));
    const old = new Date(Date.now() - 48 * 3_600_000);
    await writeFile(path.join(root, 'left/over/.tmp-0b8e'), 'half a write');
    await utimes(path.join(root, 'left/over/.tmp-0b8e'), old, old);
    await writeFile(path.join(root, 'left/.lock-object'), 'young');
    const listed: Leftover[] = [];
    for await (const leftover of driver.leftovers.list('/data', new Date(Date.now() - 3_600_000)))
      listed.push(leftover);
    assert.deepEqual(
      listed.map(({ path: at, kind, size }) => ({ at, kind, size })),
      [{ at: '/left/over/.tmp-0b8e', kind: 'temp file', size: 12 }],
    );
    await driver.leftovers.remove(listed[0] as Leftover);
    assert.deepEqual(await readdir(path.join(root, 'left/over')), ['object']);
    await assert.rejects(
      driver.leftovers.remove({ ...(listed[0] as Leftover), path: '/left/../../outside/.tmp-x' }),
      /invalid storage path/,
    );
    await rm(path.join(root, 'left/.lock-object'));
  });

  it('what it stores is readable by its own user only: files 0600, directories 0700', async () => {
    // The store holds the token signing key and the blobs of private repositories.
    await driver.putContent('/_auth/secret.pem', Buffer.from('key'));
    const staged = await driver.staged.start('/data/mo/mode-test');
    const written = await driver.staged.write(staged, Readable.from([Buffer.from('blob')]));
    await driver.staged.commit(written, '/blobs/mo/mode-test');
    for (const file of ['_auth/secret.pem', 'blobs/mo/mode-test']) {
      assert.equal((await stat(path.join(root, file))).mode & 0o777, 0o600, file);
    }
    for (const dir of ['_auth', 'blobs', 'blobs/mo', 'data']) {
      assert.equal((await stat(path.join(root, dir))).mode & 0o777, 0o700, dir);
    }
  });
});
