/**
 * A tar writer for tests that need archives no ordinary tool would write: hostile names, PAX
 * records with binary values, GNU long names, base-256 numbers, bad checksums, odd entry order.
 */

/** One entry to write. */
export interface TarSpec {
  name: string;
  /** Entry type, or a raw one-character type flag. Default `file`. */
  type?: 'file' | 'dir' | 'symlink' | 'hardlink' | 'char' | 'block' | 'fifo' | 'global' | string;
  content?: Buffer | string;
  mode?: number;
  uid?: number;
  gid?: number;
  mtime?: number;
  linkname?: string;
  uname?: string;
  gname?: string;
  devmajor?: number;
  devminor?: number;
  /** PAX records written in an `x` header before the entry (`g` for type `global`). */
  pax?: Record<string, string | Buffer>;
  /** Written as `SCHILY.xattr.<name>` PAX records. */
  xattrs?: Record<string, string | Buffer>;
  /** Put the name (and link name) in GNU `L`/`K` entries instead of PAX. */
  gnuLong?: boolean;
  /** Numeric fields written in GNU base-256 form. */
  base256?: Array<'size' | 'uid' | 'gid' | 'mtime'>;
  /** Store a wrong checksum. */
  corruptChecksum?: boolean;
  /** The ustar prefix field (names longer than 100 bytes split at a slash). */
  prefix?: string;
  /** Header layout: ustar (default) or GNU (`ustar  ` magic, no prefix). */
  format?: 'ustar' | 'gnu';
}

const TYPEFLAGS: Record<string, string> = {
  file: '0',
  hardlink: '1',
  symlink: '2',
  char: '3',
  block: '4',
  dir: '5',
  fifo: '6',
  global: 'g',
};

/** The PAX record format: `"%d %s=%s\n"`, where the length counts the whole record. */
export function paxData(records: Record<string, string | Buffer>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of Object.entries(records)) {
    const body = Buffer.concat([Buffer.from(` ${key}=`), Buffer.from(value), Buffer.from('\n')]);
    let length = body.length + 1;
    while (String(length).length + body.length !== length) length = String(length).length + body.length;
    parts.push(Buffer.from(String(length)), body);
  }
  return Buffer.concat(parts);
}

/** A whole archive: entries, then two zero blocks (and zero padding to `recordSize`). */
export function tarArchive(
  specs: TarSpec[],
  options: { recordSize?: number; trailer?: boolean } = {},
): Buffer {
  const blocks = specs.flatMap(entryBlocks);
  if (options.trailer !== false) blocks.push(Buffer.alloc(1024));
  let archive = Buffer.concat(blocks);
  const record = options.recordSize ?? 0;
  if (record > 0 && archive.length % record !== 0) {
    archive = Buffer.concat([archive, Buffer.alloc(record - (archive.length % record))]);
  }
  return archive;
}

/** The blocks of one entry, with any `x`, `L` or `K` entries it needs first. */
export function entryBlocks(spec: TarSpec): Buffer[] {
  const blocks: Buffer[] = [];
  const content = Buffer.from(spec.content ?? '');
  const typeflag = TYPEFLAGS[spec.type ?? 'file'] ?? (spec.type as string);
  if (typeflag === 'g') {
    const data = paxData(spec.pax ?? {});
    blocks.push(
      header({ ...spec, name: 'pax_global_header' }, 'g', data.length, 'pax_global_header', ''),
      ...padded(data),
    );
    return blocks;
  }
  const records: Record<string, string | Buffer> = { ...spec.pax };
  for (const [name, value] of Object.entries(spec.xattrs ?? {})) records[`SCHILY.xattr.${name}`] = value;
  if (spec.mtime !== undefined && !Number.isInteger(spec.mtime) && records.mtime === undefined) {
    records.mtime = String(spec.mtime);
  }
  let name = spec.name;
  let linkname = spec.linkname ?? '';
  if (spec.gnuLong) {
    if (Buffer.byteLength(name) > 100) {
      const data = Buffer.from(`${name}\0`);
      blocks.push(header({ name: '././@LongLink' }, 'L', data.length, '././@LongLink', ''), ...padded(data));
      name = name.slice(0, 100);
    }
    if (Buffer.byteLength(linkname) > 100) {
      const data = Buffer.from(`${linkname}\0`);
      blocks.push(header({ name: '././@LongLink' }, 'K', data.length, '././@LongLink', ''), ...padded(data));
      linkname = linkname.slice(0, 100);
    }
  } else {
    if (Buffer.byteLength(name) > 100 && records.path === undefined) records.path = name;
    if (Buffer.byteLength(linkname) > 100 && records.linkpath === undefined) records.linkpath = linkname;
    if (records.path !== undefined) name = name.slice(0, 100);
    if (records.linkpath !== undefined) linkname = linkname.slice(0, 100);
  }
  if (Object.keys(records).length > 0) {
    const data = paxData(records);
    blocks.push(
      header({ name: `PaxHeaders/${name.slice(0, 80)}` }, 'x', data.length, 'pax', ''),
      ...padded(data),
    );
  }
  const size = typeflag === '0' || typeflag === '\0' || typeflag === '7' ? content.length : 0;
  blocks.push(header(spec, typeflag, size, name, linkname));
  if (size > 0) blocks.push(...padded(content));
  return blocks;
}

function header(
  spec: Partial<TarSpec>,
  typeflag: string,
  size: number,
  name: string,
  linkname: string,
): Buffer {
  const block = Buffer.alloc(512);
  const base256 = new Set(spec.base256 ?? []);
  block.write(name, 0, 100, 'utf8');
  writeNumber(block, 100, 8, spec.mode ?? (typeflag === '5' ? 0o755 : 0o644), false);
  writeNumber(block, 108, 8, spec.uid ?? 0, base256.has('uid'));
  writeNumber(block, 116, 8, spec.gid ?? 0, base256.has('gid'));
  writeNumber(block, 124, 12, size, base256.has('size'));
  writeNumber(block, 136, 12, Math.floor(spec.mtime ?? 1_700_000_000), base256.has('mtime'));
  block.write(typeflag, 156, 1, 'latin1');
  block.write(linkname, 157, 100, 'utf8');
  if (spec.format === 'gnu') block.write('ustar  \0', 257, 8, 'latin1');
  else block.write('ustar\x0000', 257, 8, 'latin1');
  block.write(spec.uname ?? '', 265, 32, 'utf8');
  if (spec.prefix) block.write(spec.prefix, 345, 155, 'utf8');
  block.write(spec.gname ?? '', 297, 32, 'utf8');
  writeNumber(block, 329, 8, spec.devmajor ?? 0, false);
  writeNumber(block, 337, 8, spec.devminor ?? 0, false);
  block.write('        ', 148, 8, 'latin1');
  let sum = 0;
  for (const byte of block) sum += byte;
  if (spec.corruptChecksum) sum += 1;
  block.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
  return block;
}

function writeNumber(block: Buffer, offset: number, width: number, value: number, base256: boolean): void {
  if (!base256 && value >= 0 && value < 8 ** (width - 1)) {
    block.write(`${value.toString(8).padStart(width - 1, '0')}\0`, offset, width, 'latin1');
    return;
  }
  // Big-endian two's complement with the top bit of the first byte set (0x80 / 0xff).
  let rest = BigInt.asUintN(width * 8, BigInt(value));
  for (let i = width - 1; i >= 0; i--) {
    block[offset + i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  block[offset] = (block[offset] as number) | 0x80;
}

function padded(data: Buffer): Buffer[] {
  const rest = (512 - (data.length % 512)) % 512;
  return rest === 0 ? [data] : [data, Buffer.alloc(rest)];
}
