/**
 * A streaming tar reader for image layers: ustar, GNU (`L`/`K` long names) and PAX (`x`/`g`)
 * headers, base-256 numbers, checksum verification.
 *
 * Written here rather than taken from node-tar or tar-stream because layers need every entry type
 * (FIFOs, devices), absolute symlink targets kept as they are, and PAX xattr values kept as raw
 * bytes (`security.capability` is binary; decoding it as UTF-8 corrupts it).
 *
 * Nothing is buffered beyond one input chunk: each entry's body is read straight from the input,
 * and whatever the consumer leaves unread is skipped when it asks for the next entry.
 */
import { byteReader } from './bytes.js';
import { parseHeaderBlock, type RawHeader, TarFormatError } from './header.js';
import { mergePax, type PaxRecords, parsePax } from './pax.js';

/** What a tar entry is, as far as a filesystem cares. */
export type TarEntryType =
  | 'file'
  | 'hardlink'
  | 'symlink'
  | 'char'
  | 'block'
  | 'directory'
  | 'fifo'
  | 'unsupported';

/** One entry's metadata, with PAX and GNU extensions already applied. */
export interface TarHeader {
  name: string;
  type: TarEntryType;
  /** The raw type flag (e.g. `0`, `5`, or `V` for an unsupported volume label). */
  typeflag: string;
  /** Permission bits, setuid/setgid/sticky included; file-type bits masked off. */
  mode: number;
  uid: number;
  gid: number;
  /** Body length in bytes (0 for every type but `file`). */
  size: number;
  /** Seconds since the epoch, fractional when a PAX header says so. */
  mtime: number;
  /** Seconds since the epoch, when a PAX header carries it. */
  atime: number | undefined;
  /** Symlink target or hardlink target, exactly as stored. */
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
  /** `SCHILY.xattr.*` values, raw bytes. */
  xattrs: Map<string, Buffer>;
}

/** One entry: its header and a body that must be consumed (or dropped) before the next entry. */
export interface TarEntry {
  header: TarHeader;
  body: AsyncIterable<Buffer>;
}

/** Limits that keep a hostile archive from making the reader buffer without end. */
export interface TarReadOptions {
  /** Largest PAX or GNU long-name record accepted, in bytes (default 1 MiB). */
  maxMetaSize?: number;
}

/** Re-exported so callers of the reader need not know where headers are decoded. */
export { TarFormatError };

const BLOCK = 512;
const BODY_CHUNK = 1024 * 1024;

// Types that never carry data, whatever the size field says (Go's archive/tar reads them this way,
// and most layers are written by Go).
const TYPES: Record<string, TarEntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'hardlink',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'directory',
  '6': 'fifo',
};

/**
 * Reads tar entries from `source` one at a time. The source is drained to its end (so a digest
 * computed over it covers the padding after the end-of-archive blocks) and released when the
 * consumer stops early.
 */
export async function* readTar(
  source: AsyncIterable<Uint8Array>,
  options: TarReadOptions = {},
): AsyncGenerator<TarEntry, void, undefined> {
  const maxMeta = options.maxMetaSize ?? 1024 * 1024;
  const input = byteReader(source);
  let globals: PaxRecords = new Map();
  let local: PaxRecords = new Map();
  let longName: string | undefined;
  let longLink: string | undefined;
  let offset = 0;

  const readMeta = async (raw: RawHeader): Promise<Buffer> => {
    if (raw.size > maxMeta) {
      throw new TarFormatError(`${describe(raw)} is ${raw.size} bytes, more than the ${maxMeta} allowed`);
    }
    const data = await input.read(raw.size);
    if (data.length < raw.size) throw new TarFormatError(`archive ends inside ${describe(raw)}`);
    await skipExactly(input, padding(raw.size), raw);
    offset += raw.size + padding(raw.size);
    return data;
  };

  try {
    for (;;) {
      const block = await input.read(BLOCK);
      if (block.length === 0) break; // no end-of-archive marker: Go accepts this too
      if (block.length < BLOCK) throw new TarFormatError(`archive ends inside a header at byte ${offset}`);
      if (isZero(block)) {
        await input.drain();
        break;
      }
      const raw = parseHeaderBlock(block, offset);
      offset += BLOCK;
      switch (raw.typeflag) {
        case 'x':
          local = mergePax(local, parsePax(await readMeta(raw), offset));
          continue;
        case 'g':
          globals = mergePax(globals, parsePax(await readMeta(raw), offset));
          continue;
        case 'L':
          longName = cString(await readMeta(raw));
          continue;
        case 'K':
          longLink = cString(await readMeta(raw));
          continue;
        case 'S':
          throw new TarFormatError(`sparse file ${raw.name} is not supported`);
      }
      const header = finishHeader(raw, mergePax(globals, local), longName, longLink);
      local = new Map();
      longName = undefined;
      longLink = undefined;

      let remaining = header.type === 'file' ? header.size : 0;
      let current = true;
      const body: AsyncIterable<Buffer> = {
        async *[Symbol.asyncIterator]() {
          while (remaining > 0) {
            if (!current) throw new TarFormatError(`body of ${header.name} read after the next entry`);
            const chunk = await input.chunk(Math.min(remaining, BODY_CHUNK));
            if (!chunk) throw new TarFormatError(`archive ends inside the body of ${header.name}`);
            remaining -= chunk.length;
            yield chunk;
          }
        },
      };
      yield { header, body };
      current = false;
      const size = header.type === 'file' ? header.size : 0;
      await skipExactly(input, remaining + padding(size), raw);
      offset += size + padding(size);
    }
    if (local.size > 0 || longName !== undefined || longLink !== undefined) {
      throw new TarFormatError('archive ends after an extended header with no entry');
    }
  } finally {
    await input.close();
  }
}

function finishHeader(
  raw: RawHeader,
  pax: PaxRecords,
  longName: string | undefined,
  longLink: string | undefined,
): TarHeader {
  const text = (key: string): string | undefined => {
    const value = pax.get(key);
    return value && value.length > 0 ? value.toString('utf8') : undefined;
  };
  const integer = (key: string, fallback: number): number => {
    const value = text(key);
    if (value === undefined) return fallback;
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
      throw new TarFormatError(`PAX ${key}=${value} of ${raw.name} is not a valid number`);
    }
    return Number(value);
  };
  const time = (key: string): number | undefined => {
    const value = text(key);
    if (value === undefined) return undefined;
    if (!/^-?\d+(\.\d+)?$/.test(value)) throw new TarFormatError(`PAX ${key}=${value} is not a time`);
    return Number(value);
  };

  let name = text('path') ?? longName ?? raw.name;
  let typeflag = raw.typeflag;
  // Pre-POSIX archives mark directories by a trailing slash on an untyped entry.
  if (typeflag === '\0' && name.endsWith('/')) typeflag = '5';
  const type = TYPES[typeflag] ?? 'unsupported';
  if (type === 'file' && pax.has('GNU.sparse.major')) {
    throw new TarFormatError(`sparse file ${name} is not supported`);
  }
  if (name === '') throw new TarFormatError(`entry at byte ${raw.offset} has an empty name`);
  if (type === 'directory' && name.length > 1) name = name.replace(/\/+$/, '');

  const xattrs = new Map<string, Buffer>();
  for (const [key, value] of pax) {
    if (key.startsWith('SCHILY.xattr.') && key.length > 'SCHILY.xattr.'.length) {
      xattrs.set(key.slice('SCHILY.xattr.'.length), value);
    }
  }
  return {
    name,
    type,
    typeflag,
    mode: raw.mode & 0o7777,
    uid: integer('uid', raw.uid),
    gid: integer('gid', raw.gid),
    size: type === 'file' ? integer('size', raw.size) : 0,
    mtime: time('mtime') ?? raw.mtime,
    atime: time('atime'),
    linkname: text('linkpath') ?? longLink ?? raw.linkname,
    uname: text('uname') ?? raw.uname,
    gname: text('gname') ?? raw.gname,
    devmajor: raw.devmajor,
    devminor: raw.devminor,
    xattrs,
  };
}

async function skipExactly(
  input: ReturnType<typeof byteReader>,
  count: number,
  raw: RawHeader,
): Promise<void> {
  if ((await input.skip(count)) < count) throw new TarFormatError(`archive ends inside ${describe(raw)}`);
}

function describe(raw: RawHeader): string {
  return `the '${raw.typeflag}' entry ${JSON.stringify(raw.name)} at byte ${raw.offset}`;
}

function padding(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

function isZero(block: Buffer): boolean {
  for (let i = 0; i < block.length; i++) if (block[i] !== 0) return false;
  return true;
}

function cString(data: Buffer): string {
  const end = data.indexOf(0);
  return data.subarray(0, end === -1 ? data.length : end).toString('utf8');
}
