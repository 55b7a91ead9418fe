/** Temporary directories that tests create and remove. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

/** A fresh empty directory under the system temp dir. */
export async function tempDir(prefix = 'berth-test-'): Promise<string> {
  return mkdtemp(path.join(tmpdir(), prefix));
}

/** Removes a directory tree, ignoring a missing one. */
export async function removeDir(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}
