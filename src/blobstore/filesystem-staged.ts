/**
 * Staged writes on the filesystem: the staged object's data is one file, kept at the path
 * given to `start`, that each `write` appends to and `commit` renames into place. The record
 * is `{ size, file }`: the bytes acknowledged so far and the driver path of the data.
 *
 * Bytes beyond the acknowledged size (left by a writer that crashed, or froze and woke up
 * later) must never become part of an object: `write` cuts them off before appending, and
 * `commit` refuses a file whose length is not the acknowledged size. A failed write is cut
 * back too, so a retry starts from the record's size. Writes flush to disk in the background
 * as they go, so committing a large object does not wait for all of it at the end.
 */
import { constants } from 'node:fs';
import * as fs from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { hasErrorCode } from '../fs/system-error.js';
import { assertValidPath } from './checked.js';
import type { StagedObject, StagedWrites } from './driver.js';
import { closed, mapError, openCreatingParents, renameDurably, writing } from './filesystem-files.js';
import { replaceFile } from './filesystem-objects.js';
import { backgroundWriteback, countingFlushes } from './writeback.js';

/** The filesystem driver's staged-object record. */
interface StagedFile {
  size: number;
  file: string;
}

/** Written bytes between two background flushes of the staged file. */
const WRITEBACK_EVERY = 4 * 1024 * 1024;

/** Staged writes for a filesystem driver whose driver paths `full` maps to file names. */
export function filesystemStagedWrites(full: (path: string) => string): StagedWrites {
  const startWriteback = backgroundWriteback();

  const append = async (staged: StagedFile, source: Readable): Promise<number> => {
    const target = full(staged.file);
    const handle =
      staged.size === 0
        ? await openCreatingParents(target, 'a')
        : await fs.open(target, constants.O_WRONLY | constants.O_APPEND);
    try {
      const found = (await handle.stat()).size;
      if (found < staged.size) throw lengthMismatch(staged, found);
      if (found > staged.size) await handle.truncate(staged.size);
      const sink = handle.createWriteStream({ autoClose: false, highWaterMark: 1024 * 1024 });
      try {
        await pipeline(
          source,
          countingFlushes(WRITEBACK_EVERY, () => startWriteback(target)),
          sink,
        );
      } catch (err) {
        // All or nothing: a write that failed (client gone, rejected, disk full) is cut off
        // again, once no write of it is still under way, so a retry starts from a known size.
        // Destroying the sink closed the handle, hence the truncate by path.
        await closed(sink);
        await fs.truncate(target, staged.size);
        throw err;
      } finally {
        sink.destroy();
      }
      return staged.size + sink.bytesWritten;
    } finally {
      await handle.close();
    }
  };

  const commit = async (staged: StagedFile, to: string): Promise<void> => {
    const source = full(staged.file);
    let handle: fs.FileHandle;
    try {
      handle = await fs.open(source, constants.O_RDONLY);
    } catch (err) {
      if (!(staged.size === 0 && hasErrorCode(err, 'ENOENT'))) throw mapError(err, staged.file);
      // Nothing was ever written: an empty object has no file yet.
      await replaceFile(full(to), new Uint8Array());
      return;
    }
    try {
      const found = (await handle.stat()).size;
      if (found !== staged.size) throw lengthMismatch(staged, found);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await renameDurably(source, full(to));
  };

  return {
    start: async (path) => ({ size: 0, file: path }),
    async write(staged, source) {
      const record = stagedFile(staged);
      const size = await writing(record.file, () => append(record, source));
      return { size, file: record.file };
    },
    async commit(staged, to) {
      await writing(to, () => commit(stagedFile(staged), to));
    },
    async discard(staged) {
      await fs.rm(full(stagedFile(staged).file), { force: true });
    },
  };
}

/** The record as this driver made it; throws on anything else (another backend's record). */
function stagedFile(staged: StagedObject): StagedFile {
  const { size, file } = staged;
  if (!Number.isSafeInteger(size) || size < 0 || typeof file !== 'string')
    throw new Error(`not a filesystem staged object: ${JSON.stringify(staged)}`);
  assertValidPath(file);
  return { size, file };
}

function lengthMismatch(staged: StagedFile, found: number): Error {
  return new Error(
    `staged data ${staged.file} holds ${found} bytes where ${staged.size} were written: ` +
      'a writer that was not serialised with the others wrote to it',
  );
}
