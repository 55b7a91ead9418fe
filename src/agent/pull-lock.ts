/**
 * Pulls in progress, as files `pulls/<pid>.<random>` under the agent root, so that `prune`
 * (another process) leaves blobs alone while a pull may still be about to refer to them: a
 * pull writes its image record last, and reuses blobs already present without writing them.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isAlive } from '../fs/lock-file.js';
import type { AgentLayout } from './layout.js';

/** Marks a pull as in progress; call the returned function when it ends, however it ends. */
export async function holdPullLock(layout: AgentLayout): Promise<() => Promise<void>> {
  await mkdir(layout.pulls, { recursive: true });
  const file = join(layout.pulls, `${process.pid}.${randomBytes(4).toString('hex')}`);
  await writeFile(file, '');
  return () => rm(file, { force: true });
}

/** How many pulls are in progress; locks of processes that died are removed on the way. */
export async function pullsInProgress(layout: AgentLayout): Promise<number> {
  const names = await readdir(layout.pulls).catch(() => [] as string[]);
  let live = 0;
  for (const name of names) {
    const pid = Number(name.split('.')[0]);
    if (Number.isInteger(pid) && isAlive(pid)) live++;
    else await rm(join(layout.pulls, name), { force: true });
  }
  return live;
}
