/**
 * A lock between processes that read, change and replace shared files (the policy file, the
 * agent's container records, the storage driver's conditional writes): a file created with
 * O_EXCL that holds "PID TOKEN HOST". A holder that died leaves the file behind; the next caller
 * sees that its process is gone and takes over. A pid says nothing on another host (or in
 * another container's pid namespace), so a lock from elsewhere is only taken over once it is
 * older than `staleAfterMs`. The lock only binds those who take it: it keeps two `berth`
 * commands from interleaving, not an editor.
 */
import { randomBytes } from 'node:crypto';
import { link, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';

/** How to wait for a lock someone else holds. */
export interface LockOptions {
  /** Said when giving up, followed by the lock file's path. */
  busy: string;
  /** How long to wait before giving up; 30 s unless said. */
  giveUpMs?: number;
  /**
   * A lock held longer than this is taken over even if its holder seems alive: for locks held
   * a few milliseconds, where a holder that long is frozen or on another host. Never unless said.
   */
  staleAfterMs?: number;
}

const POLL_MS = 20;
/** A lock file without a pid is being written by its creator; after this long, it never will be. */
const UNWRITTEN_STALE_MS = 10_000;

/** Runs `work` holding the lock file `file`; the lock is released however `work` ends. */
export async function withLockFile<T>(
  file: string,
  work: () => Promise<T>,
  options: LockOptions,
): Promise<T> {
  const token = `${process.pid} ${randomBytes(8).toString('hex')} ${hostname()}`;
  await acquire(file, token, options);
  try {
    return await work();
  } finally {
    await release(file, token);
  }
}

/** Whether process `pid` exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function acquire(file: string, token: string, options: LockOptions): Promise<void> {
  const deadline = Date.now() + (options.giveUpMs ?? 30_000);
  for (;;) {
    try {
      await writeFile(file, token, { flag: 'wx' });
      return;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (await takeOverIfStale(file, options.staleAfterMs)) continue;
    if (Date.now() > deadline) throw new Error(`${options.busy} (${file})`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/**
 * Removes `file` if its holder is gone; true when the caller should try again at once. Two
 * callers may find the same stale file: the file is first renamed aside, and only the one
 * whose renamed file still holds the stale content deletes it; a live lock moved aside by
 * mistake is put back.
 */
async function takeOverIfStale(file: string, staleAfterMs: number | undefined): Promise<boolean> {
  const content = await readFile(file, 'utf8').catch(() => undefined);
  if (content === undefined) return true;
  if (!(await isStale(file, content, staleAfterMs))) return false;
  const aside = `${file}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await rename(file, aside);
  } catch {
    return true;
  }
  const moved = await readFile(aside, 'utf8').catch(() => '');
  if (moved !== content) await link(aside, file).catch(() => {});
  await rm(aside, { force: true });
  return moved === content;
}

async function isStale(file: string, content: string, staleAfterMs: number | undefined): Promise<boolean> {
  const [pidText, , host] = content.split(' ');
  const pid = Number(pidText);
  const written = Number.isInteger(pid) && pid > 0;
  if (written && (host === undefined || host === hostname()) && !isAlive(pid)) return true;
  const bound = written ? staleAfterMs : UNWRITTEN_STALE_MS;
  if (bound === undefined) return false;
  const modified = await stat(file).then(
    (info) => info.mtimeMs,
    () => 0,
  );
  return Date.now() - modified > bound;
}

async function release(file: string, token: string): Promise<void> {
  // A lock taken over while this process hung belongs to its new holder now.
  const content = await readFile(file, 'utf8').catch(() => undefined);
  if (content === token) await rm(file, { force: true });
}
