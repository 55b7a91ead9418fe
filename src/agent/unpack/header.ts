/**
 * Decoding one 512-byte tar header block (v7, ustar and GNU layouts): checksum, octal and
 * base-256 numbers, the ustar name prefix.
 */

/** The archive is malformed; the message says where. */
export class TarFormatError extends Error {
  override name = 'TarFormatError';
}

/** The fields of one header block, before PAX or GNU long-name records are applied. */
export interface RawHeader {
  /** Byte offset of the block in the uncompressed archive, for error messages. */
  offset: number;
  name: string;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  mtime: number;
  typeflag: string;
  linkname: string;
  uname: string;
  gname: string;
  devmajor: number;
  devminor: number;
}

/** Decodes and checks one header block found at byte `offset`. */
export function parseHeaderBlock(block: Buffer, offset: number): RawHeader {
  verifyChecksum(block, offset);
  const magic = block.subarray(257, 263).toString('latin1');
  const version = block.subarray(263, 265).toString('latin1');
  // GNU headers use the ustar prefix area for atime/ctime, so only true ustar has a prefix.
  const ustar = magic === 'ustar\0' && version === '00';
  const gnu = magic === 'ustar ' && version === ' \0';
  const field = (start: number, length: number, what: string): number =>
    parseNumber(block.subarray(start, start + length), `${what} of the header at byte ${offset}`);
  let name = text(block, 0, 100);
  if (ustar) {
    const prefix = text(block, 345, 155);
    if (prefix !== '') name = `${prefix}/${name}`;
  }
  const extended = ustar || gnu;
  return {
    offset,
    name,
    mode: field(100, 8, 'mode'),
    uid: field(108, 8, 'uid'),
    gid: field(116, 8, 'gid'),
    size: field(124, 12, 'size'),
    mtime: field(136, 12, 'mtime'),
    typeflag: String.fromCharCode(block[156] as number),
    linkname: text(block, 157, 100),
    uname: extended ? text(block, 265, 32) : '',
    gname: extended ? text(block, 297, 32) : '',
    devmajor: extended ? field(329, 8, 'devmajor') : 0,
    devminor: extended ? field(337, 8, 'devminor') : 0,
  };
}

/**
 * A numeric field: octal text (space or NUL padded), or GNU base-256 when the top bit of the
 * first byte is set (0x80 positive, 0xff negative, big-endian two's complement).
 */
export function parseNumber(bytes: Buffer, what: string): number {
  const first = bytes[0] ?? 0;
  if (first & 0x80) {
    const negative = (first & 0x40) !== 0;
    let value = 0n;
    for (let i = 0; i < bytes.length; i++) {
      let byte = bytes[i] as number;
      if (i === 0) byte &= 0x7f;
      if (negative) byte ^= i === 0 ? 0x7f : 0xff;
      value = (value << 8n) | BigInt(byte);
    }
    if (negative) value = -(value + 1n);
    if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new TarFormatError(`${what} is out of range`);
    }
    return Number(value);
  }
  const digits = bytes.toString('latin1').replace(/^[ \0]+|[ \0]+$/g, '');
  if (digits === '') return 0;
  if (!/^[0-7]+$/.test(digits)) throw new TarFormatError(`${what} is not octal: ${JSON.stringify(digits)}`);
  return Number.parseInt(digits, 8);
}

function verifyChecksum(block: Buffer, offset: number): void {
  const stored = parseNumber(block.subarray(148, 156), `checksum of the header at byte ${offset}`);
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < 512; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : (block[i] as number);
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte;
  }
  // Some old writers summed signed chars; both sums are accepted, as GNU tar and Go do.
  if (stored !== unsigned && stored !== signed) {
    throw new TarFormatError(
      `bad header checksum at byte ${offset} (stored ${stored}, computed ${unsigned}): not a tar archive, or corrupt`,
    );
  }
}

function text(block: Buffer, start: number, length: number): string {
  const field = block.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? field.length : end).toString('utf8');
}
