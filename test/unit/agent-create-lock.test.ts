import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { withCreateLock } from '../../src/agent/create-lock.js';
import { agentLayout } from '../../src/agent/layout.js';
import { removeDir, tempDir } from '../helpers/tmp.js';

describe('agent create lock', () => {
  it('lets one creation run at a time and removes itself', async () => {
    const dir = await tempDir('berth-lock-');
    try {
      const layout = agentLayout(dir);
      await mkdir(layout.containers, { recursive: true });
      let running = 0;
      let most = 0;
      await Promise.all(
        [1, 2, 3, 4].map(() =>
          withCreateLock(layout, async () => {
            running++;
            most = Math.max(most, running);
            await new Promise((resolve) => setTimeout(resolve, 30));
            running--;
          }),
        ),
      );
      assert.equal(most, 1);
      assert.deepEqual(await readdir(layout.containers), []);
    } finally {
      await removeDir(dir);
    }
  });

  it('takes over a lock left by a process that died, and is released when the work throws', async () => {
    const dir = await tempDir('berth-lock-');
    try {
      const layout = agentLayout(dir);
      await mkdir(layout.containers, { recursive: true });
      // A pid far above pid_max on Linux: no such process.
      await writeFile(join(layout.containers, '.create.lock'), '2147483646');
      assert.equal(await withCreateLock(layout, async () => 'taken over'), 'taken over');
      await assert.rejects(
        withCreateLock(layout, async () => {
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.deepEqual(await readdir(layout.containers), []);
    } finally {
      await removeDir(dir);
    }
  });
});
