/**
 * Replacing a small file so that readers see the old content or the new, never half of it, and
 * the new content survives a crash: a temp dot-file beside the target, fsync, rename, then an
 * fsync of the directory. Used for files Berth keeps outside the storage driver (the policy
 * file, the agent's image records and credentials).
 */
import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

/** Who a replaced file belongs to. */
export interface FileOwner {
  uid: number;
  gid: number;
}

/**
 * Atomically replaces `file` with `text`, leaving it with exactly `mode` (whatever the umask)
 * and, when given, `owner` (so a root edit of a file another user's process reads stays
 * theirs; changing the owner needs the right to, or fails with EPERM before anything moves).
 */
export async function writeFileAtomic(
  file: string,
  text: string,
  mode = 0o644,
  owner?: FileOwner,
): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx', mode);
    try {
      // chown first: it may clear set-id bits that chmod then sets.
      if (owner) await handle.chown(owner.uid, owner.gid);
      await handle.chmod(mode);
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
  await syncDirectory(dirname(file));
}

/** Makes a rename in `directory` durable; some filesystems cannot fsync a directory, which is fine. */
export async function syncDirectory(directory: string): Promise<void> {
  const handle = await open(directory, 'r').catch(() => undefined);
  await handle?.sync().catch(() => {});
  await handle?.close();
}
