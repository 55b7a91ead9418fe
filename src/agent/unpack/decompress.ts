/**
 * Opens a layer blob as a stream of uncompressed tar bytes, hashing them on the way so the caller
 * can check the layer's diff_id once the archive has been read to its end.
 *
 * The compression is chosen by the magic bytes, not only the media type: a layer labelled gzip
 * that is really zstd (or the reverse) still unpacks, with a warning; a compressed label on
 * something without a known magic fails with a message that says so.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline, type Readable, Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { Decompress } from 'fzstd';

/** How a layer's bytes are compressed. */
export type LayerCompression = 'none' | 'gzip' | 'zstd';

/** An opened layer; `chunks` may be iterated once. */
export interface LayerStream {
  compression: LayerCompression;
  /** Uncompressed tar bytes. */
  chunks: AsyncIterable<Buffer>;
  /** `sha256:<hex>` of every uncompressed byte; valid once `chunks` has been read to its end. */
  digest(): string;
  /** Uncompressed bytes read so far. */
  uncompressedBytes(): number;
  /** Notes about the layer, such as a media type that disagrees with the content. */
  warnings: string[];
}

const OUTPUT_CHUNK = 256 * 1024;

/**
 * The compression a layer media type names: OCI `...tar`, `...tar+gzip`, `...tar+zstd` (also the
 * non-distributable variants) and Docker's `...diff.tar.gzip` / foreign `...tar.gzip`.
 */
export function compressionOfMediaType(mediaType: string): LayerCompression {
  const type = mediaType.trim().toLowerCase();
  if (type.includes('+encrypted')) throw new Error(`encrypted layers are not supported (${mediaType})`);
  if (/[.+]tar$/.test(type)) return 'none';
  if (/[.+]tar[.+]gzip$/.test(type)) return 'gzip';
  if (/[.+]tar\+zstd$/.test(type)) return 'zstd';
  throw new Error(`unsupported layer media type ${mediaType}`);
}

/** What the first bytes of a blob say it is. */
export function sniffCompression(head: Uint8Array): LayerCompression | 'xz' | 'bzip2' | 'unknown' {
  const at = (i: number): number => head[i] ?? -1;
  if (at(0) === 0x1f && at(1) === 0x8b) return 'gzip';
  if (at(0) === 0x28 && at(1) === 0xb5 && at(2) === 0x2f && at(3) === 0xfd) return 'zstd';
  // zstd skippable frames (magic 0x184D2A50..5F, little-endian) may lead a zstd stream.
  if ((at(0) & 0xf0) === 0x50 && at(1) === 0x2a && at(2) === 0x4d && at(3) === 0x18) return 'zstd';
  if (at(0) === 0xfd && at(1) === 0x37 && at(2) === 0x7a && at(3) === 0x58) return 'xz';
  if (at(0) === 0x42 && at(1) === 0x5a && at(2) === 0x68) return 'bzip2';
  return 'unknown';
}

/**
 * Opens the blob at `path`. `onCompressedBytes` is told how many bytes of the blob were read, as
 * they are read (for progress displays).
 */
export async function openLayer(
  path: string,
  mediaType: string,
  onCompressedBytes?: (count: number) => void,
): Promise<LayerStream> {
  const labelled = compressionOfMediaType(mediaType);
  const sniffed = sniffCompression(await readHead(path, 4));
  const warnings: string[] = [];
  let compression: LayerCompression;
  if (sniffed === 'gzip' || sniffed === 'zstd') {
    compression = sniffed;
    if (sniffed !== labelled) warnings.push(`layer is labelled ${mediaType} but its content is ${sniffed}`);
  } else if (sniffed === 'xz' || sniffed === 'bzip2') {
    throw new Error(`layer is ${sniffed}-compressed, which is not supported (labelled ${mediaType})`);
  } else if (labelled === 'none') {
    compression = 'none';
  } else {
    throw new Error(`layer is labelled ${mediaType} but does not start with the ${labelled} magic bytes`);
  }

  const file = createReadStream(path, { highWaterMark: OUTPUT_CHUNK });
  if (onCompressedBytes) file.on('data', (chunk) => onCompressedBytes(chunk.length));
  let output: Readable = file;
  if (compression !== 'none') {
    const decoder = compression === 'gzip' ? createGunzip({ chunkSize: OUTPUT_CHUNK }) : zstdDecoder();
    // pipeline destroys the decoder with any read error, so iterating it reports the error.
    output = pipeline(file, decoder, () => {});
  }

  const hash = createHash('sha256');
  let bytes = 0;
  let finished = false;
  async function* hashed(): AsyncGenerator<Buffer> {
    for await (const chunk of output as AsyncIterable<Buffer>) {
      hash.update(chunk);
      bytes += chunk.length;
      yield chunk;
    }
    finished = true;
  }
  let digest: string | undefined;
  return {
    compression,
    chunks: hashed(),
    warnings,
    uncompressedBytes: () => bytes,
    digest() {
      if (!finished) throw new Error('layer digest asked for before the layer was read to its end');
      digest ??= `sha256:${hash.digest('hex')}`;
      return digest;
    },
  };
}

/** A Transform that decompresses zstd with fzstd (pure JS; Node 20's zlib has no zstd). */
export function zstdDecoder(): Transform {
  const decoder = new Decompress();
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      try {
        decoder.push(chunk);
        done();
      } catch (error) {
        done(zstdError(error));
      }
    },
    flush(done) {
      try {
        // `final` makes fzstd report a stream that stops inside a frame.
        decoder.push(new Uint8Array(0), true);
        done();
      } catch (error) {
        done(zstdError(error));
      }
    },
  });
  // fzstd hands out a fresh array per block, so it can be wrapped without a copy.
  decoder.ondata = (data) => {
    if (data.length > 0) stream.push(Buffer.from(data.buffer, data.byteOffset, data.length));
  };
  return stream;
}

function zstdError(error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  return new Error(`zstd: ${message}`);
}

async function readHead(path: string, count: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.alloc(count);
    const { bytesRead } = await handle.read(buffer, 0, count, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}
