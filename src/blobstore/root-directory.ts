/**
 * The filesystem driver's root directory at start-up: created when missing, and checked to be
 * a directory Berth may write in, so a bad root stops start-up with one line naming it
 * instead of failing the first push.
 */
import { constants } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import { hasErrorCode, systemErrorReason } from '../fs/system-error.js';

/** Makes `root` (absolute) ready for storage; throws an Error naming it and the problem. */
export async function prepareRootDirectory(root: string): Promise<void> {
  try {
    await mkdir(root, { recursive: true });
  } catch (err) {
    // EEXIST: something that is not a directory is in the way; stat below says what.
    if (!hasErrorCode(err, 'EEXIST')) throw new Error(`cannot create ${root}: ${systemErrorReason(err)}`);
  }
  const info = await stat(root);
  if (!info.isDirectory()) throw new Error(`${root} is not a directory`);
  try {
    await access(root, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw new Error(`${root} is not writable: ${systemErrorReason(err)}`);
  }
}
