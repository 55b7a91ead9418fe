/**
 * One container created at a time per agent root: names and /30 subnets are picked by looking
 * at the existing containers, so two `run`s at the same instant must not both look before
 * either has written its record. The lock is a file naming its holder's pid; a holder that
 * died leaves a stale file, which the next caller takes over.
 */
import { open, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { AgentLayout } from './layout.js';
import { isAlive } from './pull-lock.js';

const WAIT_MS = 20;
const GIVE_UP_MS = 30_000;

/** Runs `work` holding the create lock of `layout`. */
export async function withCreateLock<T>(layout: AgentLayout, work: () => Promise<T>): Promise<T> {
  const file = join(layout.containers, '.create.lock');
  const deadline = Date.now() + GIVE_UP_MS;
  for (;;) {
    try {
      const handle = await open(file, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = Number(await readFile(file, 'utf8').catch(() => ''));
      if (Number.isInteger(holder) && holder > 0 && !isAlive(holder)) {
        await rm(file, { force: true });
        continue;
      }
      if (Date.now() > deadline)
        throw new Error(`another berth agent has been creating a container for 30 s (${file})`);
      await new Promise((resolve) => setTimeout(resolve, WAIT_MS));
    }
  }
  try {
    return await work();
  } finally {
    await rm(file, { force: true });
  }
}
