/**
 * Opening layer blobs: the compression chosen by media type and magic bytes (a mislabelled layer
 * still unpacks, with a warning), streaming gzip and zstd, and the diff_id hash of the
 * uncompressed bytes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { compressionOfMediaType, openLayer, sniffCompression } from '../../src/agent/unpack/decompress.js';
import { readTar } from '../../src/agent/unpack/tar.js';
import { tarArchive } from '../helpers/tar-writer.js';
import { removeDir, tempDir } from '../helpers/tmp.js';

// A zstd frame of raw (stored) blocks: enough to drive the streaming decoder without a zstd tool.
function zstdStored(data: Buffer, blockSize = 100_000): Buffer {
  const parts: Buffer[] = [Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x38])];
  for (let at = 0; at < data.length || at === 0; at += blockSize) {
    const block = data.subarray(at, at + blockSize);
    const last = at + blockSize >= data.length ? 1 : 0;
    const value = (block.length << 3) | last;
    parts.push(Buffer.from([value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff]), block);
    if (data.length === 0) break;
  }
  return Buffer.concat(parts);
}

describe('layer decompression', () => {
  let dir: string;
  const tar = tarArchive(
    Array.from({ length: 30 }, (_, i) => ({ name: `file${i}`, content: Buffer.alloc(9000 + i, i) })),
    { recordSize: 10240 },
  );
  const diffId = `sha256:${createHash('sha256').update(tar).digest('hex')}`;
  const OCI = 'application/vnd.oci.image.layer.v1.tar';

  before(async () => {
    dir = await tempDir('berth-decompress-');
  });
  after(async () => {
    await removeDir(dir);
  });

  async function unpackNames(
    content: Buffer,
    mediaType: string,
  ): Promise<{ names: string[]; digest: string; warnings: string[] }> {
    const file = path.join(dir, `blob-${Math.random().toString(16).slice(2)}`);
    await writeFile(file, content);
    let compressed = 0;
    const layer = await openLayer(file, mediaType, (count) => {
      compressed += count;
    });
    const names: string[] = [];
    for await (const entry of readTar(layer.chunks)) names.push(entry.header.name);
    assert.equal(compressed, content.length);
    return { names, digest: layer.digest(), warnings: layer.warnings };
  }

  it('maps media types to compressions', () => {
    assert.equal(compressionOfMediaType(OCI), 'none');
    assert.equal(compressionOfMediaType(`${OCI}+gzip`), 'gzip');
    assert.equal(compressionOfMediaType(`${OCI}+zstd`), 'zstd');
    assert.equal(compressionOfMediaType('application/vnd.docker.image.rootfs.diff.tar.gzip'), 'gzip');
    assert.equal(compressionOfMediaType('application/vnd.docker.image.rootfs.foreign.diff.tar.gzip'), 'gzip');
    assert.equal(
      compressionOfMediaType('application/vnd.oci.image.layer.nondistributable.v1.tar+zstd'),
      'zstd',
    );
    assert.throws(() => compressionOfMediaType(`${OCI}+gzip+encrypted`), /encrypted/);
    assert.throws(() => compressionOfMediaType('application/octet-stream'), /unsupported/);
    assert.equal(sniffCompression(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a])), 'xz');
  });

  it('reads plain, gzip and zstd layers and hashes the uncompressed bytes', async () => {
    for (const [content, type] of [
      [tar, OCI],
      [gzipSync(tar), `${OCI}+gzip`],
      [gzipSync(tar), 'application/vnd.docker.image.rootfs.diff.tar.gzip'],
      [zstdStored(tar), `${OCI}+zstd`],
    ] as const) {
      const result = await unpackNames(content, type);
      assert.equal(result.names.length, 30, type);
      assert.equal(result.digest, diffId, type);
      assert.deepEqual(result.warnings, [], type);
    }
  });

  it('reads real zstd compression when the zstd tool is there', async (t) => {
    const zstd = spawnSync('zstd', ['-q', '-c', '-19'], { input: tar });
    if (zstd.error || zstd.status !== 0) {
      t.skip('no zstd tool');
      return;
    }
    const result = await unpackNames(zstd.stdout, `${OCI}+zstd`);
    assert.equal(result.digest, diffId);
  });

  it('follows the magic bytes when the label is wrong, with a warning', async () => {
    const gz = await unpackNames(zstdStored(tar), `${OCI}+gzip`);
    assert.equal(gz.digest, diffId);
    assert.match(gz.warnings[0] ?? '', /labelled .*\+gzip but its content is zstd/);
    const plain = await unpackNames(gzipSync(tar), OCI);
    assert.equal(plain.digest, diffId);
    assert.match(plain.warnings[0] ?? '', /content is gzip/);
  });

  it('fails clearly on a compressed label without magic, and on truncated streams', async () => {
    await assert.rejects(
      unpackNames(tar, `${OCI}+gzip`),
      /labelled .*\+gzip but does not start with the gzip magic/,
    );
    await assert.rejects(unpackNames(tar, `${OCI}+zstd`), /does not start with the zstd magic/);
    const gz = gzipSync(tar);
    await assert.rejects(
      unpackNames(gz.subarray(0, gz.length - 100), `${OCI}+gzip`),
      /unexpected end|ends inside/,
    );
    const zst = zstdStored(tar);
    await assert.rejects(unpackNames(zst.subarray(0, zst.length - 100), `${OCI}+zstd`), /zstd|ends inside/);
    await assert.rejects(unpackNames(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0]), `${OCI}+gzip`), /xz/);
  });
});
