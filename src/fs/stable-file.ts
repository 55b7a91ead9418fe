/**
 * Reading a file that someone may be writing in place (an editor, `: > file`, `cat > file`):
 * it is read only once its size, modification time and inode have stayed the same for a
 * quiet period, and checked again after reading, so a reader sees what a writer finished
 * rather than an empty or half-written file. A file replaced by rename is stable at once.
 */
import type { BigIntStats } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';

/** How long a file must stay unchanged, and how long to wait for that at most. */
export interface StableTiming {
  quietMs: number;
  giveUpMs: number;
  /** Waits `ms`; tests replace it to change the file in between. */
  sleep?: (ms: number) => Promise<void>;
}

/** Reads `file` as UTF-8 once it has stopped changing; throws if it never does within `giveUpMs`. */
export async function readStableFile(file: string, timing: StableTiming): Promise<string> {
  const sleep = timing.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = Date.now() + timing.giveUpMs;
  let before = await versionOf(file);
  for (;;) {
    await sleep(timing.quietMs);
    const settled = await versionOf(file);
    if (sameVersion(before, settled)) {
      const bytes = await readFile(file);
      const after = await versionOf(file);
      if (sameVersion(settled, after) && BigInt(bytes.length) === after.size) return bytes.toString('utf8');
      before = after;
    } else {
      before = settled;
    }
    if (Date.now() > deadline)
      throw new Error(`${file} kept changing for ${timing.giveUpMs / 1000} s, so it was not read`);
  }
}

/** Nanosecond times: two writes within one millisecond still differ. */
function versionOf(file: string): Promise<BigIntStats> {
  return stat(file, { bigint: true });
}

function sameVersion(a: BigIntStats, b: BigIntStats): boolean {
  return a.size === b.size && a.mtimeNs === b.mtimeNs && a.ino === b.ino && a.dev === b.dev;
}
