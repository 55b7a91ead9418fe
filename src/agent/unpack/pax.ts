/**
 * PAX extended header records (`"%d %s=%s\n"`), with values kept as raw bytes: keys are UTF-8,
 * but `SCHILY.xattr.*` values are arbitrary binary and must reach setxattr unchanged.
 */
import { TarFormatError } from './header.js';

/** Records by key. An empty value means "unset": fall back to the ustar field. */
export type PaxRecords = Map<string, Buffer>;

const SPACE = 0x20;
const NEWLINE = 0x0a;
const EQUALS = 0x3d;

/** Parses the body of an `x` or `g` entry whose data ends at byte `offset`. */
export function parsePax(data: Buffer, offset: number): PaxRecords {
  const records: PaxRecords = new Map();
  let at = 0;
  while (at < data.length) {
    // GNU tar pads the last block of some PAX headers with NULs.
    if (data[at] === 0) break;
    const space = data.indexOf(SPACE, at);
    const lengthText = space === -1 ? '' : data.subarray(at, space).toString('latin1');
    if (!/^[1-9]\d*$/.test(lengthText)) throw bad(offset, 'a record length is not a number');
    const end = at + Number(lengthText);
    if (end > data.length || data[end - 1] !== NEWLINE) throw bad(offset, 'a record overruns its header');
    const equals = data.indexOf(EQUALS, space + 1);
    if (equals === -1 || equals >= end) throw bad(offset, 'a record has no "="');
    const key = data.subarray(space + 1, equals).toString('utf8');
    if (key === '') throw bad(offset, 'a record has an empty key');
    records.set(key, Buffer.from(data.subarray(equals + 1, end - 1)));
    at = end;
  }
  return records;
}

/**
 * `over` laid on top of `base`. An empty value in `over` hides the base value (POSIX: a zero-length
 * value deletes the field), which {@link PaxRecords} readers treat as absent.
 */
export function mergePax(base: PaxRecords, over: PaxRecords): PaxRecords {
  if (over.size === 0) return base;
  if (base.size === 0) return over;
  const merged = new Map(base);
  for (const [key, value] of over) merged.set(key, value);
  return merged;
}

function bad(offset: number, what: string): TarFormatError {
  return new TarFormatError(`malformed PAX header before byte ${offset}: ${what}`);
}
