import assert from 'node:assert/strict';
import { stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { prepareRootDirectory } from '../../src/blobstore/root-directory.js';
import { systemErrorReason } from '../../src/fs/system-error.js';
import { ListenError, listenError } from '../../src/server.js';
import { removeDir, tempDir } from '../helpers/tmp.js';

/** An error shaped like the ones Node's system calls reject with. */
function systemError(code: string, errno: number, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(message), { code, errno });
}

describe('start-up error messages', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir('berth-startup-unit-');
  });
  after(() => removeDir(dir));

  it("system errors read as the OS's short reason, other errors as their message", () => {
    const eacces = systemError('EACCES', -13, "EACCES: permission denied, mkdir '/x'");
    assert.equal(systemErrorReason(eacces), 'permission denied');
    assert.equal(systemErrorReason(new Error('plain')), 'plain');
  });

  it('a listen refused for lack of privilege says which ports need it', () => {
    const refused = listenError(':80', systemError('EACCES', -13, 'listen EACCES: permission denied :80'));
    assert.ok(refused instanceof ListenError);
    assert.equal(
      refused.message,
      'cannot listen on :80: permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)',
    );
    const inUse = listenError(':5000', systemError('EADDRINUSE', -98, 'listen EADDRINUSE'));
    assert.equal(inUse.message, 'cannot listen on :5000: address already in use');
  });

  it('the storage root is created when missing and refused when it is not a directory', async () => {
    const created = join(dir, 'a', 'b');
    await prepareRootDirectory(created);
    assert.ok((await stat(created)).isDirectory());
    await prepareRootDirectory(created);
    const file = join(dir, 'file');
    await writeFile(file, '');
    await assert.rejects(prepareRootDirectory(file), { message: `${file} is not a directory` });
    await assert.rejects(prepareRootDirectory(join(file, 'x')), {
      message: `cannot create ${file}/x: not a directory`,
    });
  });
});
