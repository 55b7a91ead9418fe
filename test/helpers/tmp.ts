/** Temporary directories that tests create and remove. */
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
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

/** Writes a small file (creating its directory) whose modification time lies `ageMs` in the past. */
export async function writeAgedFile(file: string, ageMs: number): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, 'x');
  const when = new Date(Date.now() - ageMs);
  await utimes(file, when, when);
}
