import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { createFilesystemDriver } from '../../../src/blobstore/filesystem.js';
import { removeDir, tempDir } from '../../helpers/tmp.js';
import { runDriverContract } from './contract.js';

/** Every dot-file (the driver's temp files) anywhere under `root`. */
async function tempFilesUnder(root: string): Promise<string[]> {
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
    leftovers: () => tempFilesUnder(root),
    dispose: () => removeDir(root),
  };
});
