/**
 * The agent's layer reader: tar headers of every flavour built here byte by byte, and streaming
 * behaviour at awkward chunk boundaries.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readTar, type TarEntry, TarFormatError, type TarHeader } from '../../src/agent/unpack/tar.js';
import { type TarSpec, tarArchive } from '../helpers/tar-writer.js';

interface Read {
  header: TarHeader;
  body: Buffer;
}

async function* chunked(data: Buffer, sizes: number[]): AsyncGenerator<Buffer> {
  let at = 0;
  for (let i = 0; at < data.length; i++) {
    const size = sizes[i % sizes.length] as number;
    yield data.subarray(at, at + size);
    at += size;
  }
}

async function readAll(data: Buffer, sizes = [data.length || 1]): Promise<Read[]> {
  const out: Read[] = [];
  for await (const entry of readTar(chunked(data, sizes))) {
    const parts: Buffer[] = [];
    for await (const part of entry.body) parts.push(part);
    out.push({ header: entry.header, body: Buffer.concat(parts) });
  }
  return out;
}

async function only(spec: TarSpec): Promise<Read> {
  const entries = await readAll(tarArchive([spec]));
  assert.equal(entries.length, 1);
  return entries[0] as Read;
}

const BINARY = Buffer.from([0x01, 0x00, 0x00, 0x02, 0xff, 0xfe, 0x80, 0xc3, 0x28, 0x0a, 0x3d]);

describe('tar reader', () => {
  it('reads every ustar entry type with its fields', async () => {
    const archive = tarArchive([
      { name: 'dir/', type: 'dir', mode: 0o1777, uid: 0, gid: 0, mtime: 1_600_000_000 },
      {
        name: 'dir/file',
        content: 'hello',
        mode: 0o100755 | 0o4000,
        uid: 1000,
        gid: 1001,
        uname: 'u',
        gname: 'g',
      },
      { name: 'dir/link', type: 'symlink', linkname: '/abs/target' },
      { name: 'dir/hard', type: 'hardlink', linkname: 'dir/file' },
      { name: 'dev/null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 },
      { name: 'dev/sda', type: 'block', devmajor: 8, devminor: 0 },
      { name: 'pipe', type: 'fifo', mode: 0o2644 },
    ]);
    const entries = await readAll(archive);
    assert.deepEqual(
      entries.map(({ header }) => [header.name, header.type, header.mode.toString(8)]),
      [
        ['dir', 'directory', '1777'],
        ['dir/file', 'file', '4755'],
        ['dir/link', 'symlink', '644'],
        ['dir/hard', 'hardlink', '644'],
        ['dev/null', 'char', '666'],
        ['dev/sda', 'block', '644'],
        ['pipe', 'fifo', '2644'],
      ],
    );
    const [dir, file, link, hard, nul, sda] = entries as Read[];
    assert.equal(dir?.header.mtime, 1_600_000_000);
    assert.equal(file?.body.toString(), 'hello');
    assert.deepEqual(
      [file?.header.uid, file?.header.gid, file?.header.uname, file?.header.gname],
      [1000, 1001, 'u', 'g'],
    );
    assert.equal(link?.header.linkname, '/abs/target');
    assert.equal(hard?.header.linkname, 'dir/file');
    assert.deepEqual([nul?.header.devmajor, nul?.header.devminor, sda?.header.devmajor], [1, 3, 8]);
  });

  it('joins the ustar prefix and name', async () => {
    const prefix = `${'p'.repeat(120)}/q`;
    const { header } = await only({ name: 'file.txt', prefix, content: 'x' });
    assert.equal(header.name, `${prefix}/file.txt`);
  });

  it('applies PAX records: long names, sizes, ids, fractional times, binary xattrs', async () => {
    const longName = `${'deep/'.repeat(60)}file`;
    const longLink = `/${'target/'.repeat(40)}end`;
    const [file, link] = await readAll(
      tarArchive([
        {
          name: longName,
          content: 'data',
          pax: {
            uid: '3000000000',
            gid: '70000',
            mtime: '1700000000.25',
            atime: '1700000001.5',
            uname: 'ünï',
          },
          xattrs: { 'security.capability': BINARY, 'user.text': 'plain', 'user.empty': '' },
        },
        { name: 'l', type: 'symlink', linkname: longLink },
      ]),
    );
    assert.equal(file?.header.name, longName);
    assert.equal(file?.body.toString(), 'data');
    assert.equal(file?.header.uid, 3_000_000_000);
    assert.equal(file?.header.gid, 70_000);
    assert.equal(file?.header.mtime, 1_700_000_000.25);
    assert.equal(file?.header.atime, 1_700_000_001.5);
    assert.equal(file?.header.uname, 'ünï');
    assert.deepEqual(file?.header.xattrs.get('security.capability'), BINARY);
    assert.equal(file?.header.xattrs.get('user.text')?.toString(), 'plain');
    assert.equal(file?.header.xattrs.get('user.empty')?.length, 0);
    assert.equal(link?.header.linkname, longLink);
  });

  it('keeps global PAX records for later entries; a local empty value unsets one', async () => {
    const entries = await readAll(
      tarArchive([
        { name: 'g', type: 'global', pax: { uid: '42', 'SCHILY.xattr.user.all': 'yes' } },
        { name: 'a' },
        { name: 'b', pax: { uid: '' }, uid: 7 },
        { name: 'c', pax: { uid: '43' } },
      ]),
    );
    assert.deepEqual(
      entries.map(({ header }) => [header.name, header.uid, header.xattrs.get('user.all')?.toString()]),
      [
        ['a', 42, 'yes'],
        ['b', 7, 'yes'],
        ['c', 43, 'yes'],
      ],
    );
  });

  it('reads GNU long names and long link names', async () => {
    const longName = `${'gnu/'.repeat(50)}name`;
    const longLink = `${'link/'.repeat(30)}target`;
    const entries = await readAll(
      tarArchive([
        { name: longName, content: 'g', format: 'gnu', gnuLong: true },
        {
          name: longName.replace('name', 'sym'),
          type: 'symlink',
          linkname: longLink,
          format: 'gnu',
          gnuLong: true,
        },
        { name: 'short', format: 'gnu', content: 's' },
      ]),
    );
    assert.deepEqual(
      entries.map(({ header, body }) => [header.name, header.linkname, body.toString()]),
      [
        [longName, '', 'g'],
        [longName.replace('name', 'sym'), longLink, ''],
        ['short', '', 's'],
      ],
    );
  });

  it('decodes base-256 numbers, negative ones included', async () => {
    const content = Buffer.alloc(700, 7);
    const { header, body } = await only({
      name: 'big',
      content,
      uid: 2 ** 40,
      mtime: -1000,
      base256: ['size', 'uid', 'mtime'],
    });
    assert.equal(header.size, 700);
    assert.deepEqual(body, content);
    assert.equal(header.uid, 2 ** 40);
    assert.equal(header.mtime, -1000);
  });

  it('treats an untyped entry with a trailing slash as a directory (pre-POSIX archives)', async () => {
    const { header } = await only({ name: 'old/', type: '\0' });
    assert.deepEqual([header.name, header.type], ['old', 'directory']);
  });

  it('refuses a bad checksum, naming the offset', async () => {
    await assert.rejects(
      readAll(
        tarArchive([
          { name: 'ok', content: 'x' },
          { name: 'bad', corruptChecksum: true },
        ]),
      ),
      (error: Error) => error instanceof TarFormatError && /checksum at byte 1024/.test(error.message),
    );
  });

  it('refuses truncated archives, oversized metadata and sparse files', async () => {
    const archive = tarArchive([{ name: 'f', content: Buffer.alloc(2000) }]);
    await assert.rejects(readAll(archive.subarray(0, 1200)), /ends inside the body of f/);
    await assert.rejects(readAll(archive.subarray(0, 300)), /ends inside a header/);
    const huge = tarArchive([{ name: 'f', pax: { comment: 'x'.repeat(3000) } }]);
    await assert.rejects(async () => {
      for await (const _ of readTar(chunked(huge, [huge.length]), { maxMetaSize: 1024 })) {
        // draining
      }
    }, /more than the 1024 allowed/);
    await assert.rejects(readAll(tarArchive([{ name: 'sparse', type: 'S' }])), /sparse/);
    await assert.rejects(
      readAll(tarArchive([{ name: 'x', pax: { path: 'y' } }]).subarray(0, 1024)),
      /ends after/,
    );
  });

  it('gives the same entries whatever the chunk boundaries', async () => {
    const specs: TarSpec[] = [];
    for (let i = 0; i < 20; i++) {
      specs.push({
        name: `f${i}`,
        content: Buffer.alloc(i * 97, i),
        xattrs: i % 3 ? {} : { 'user.i': String(i) },
      });
    }
    const archive = tarArchive(specs, { recordSize: 10240 });
    const whole = await readAll(archive);
    for (const sizes of [[1], [511, 513], [7, 1024, 3], [100_000]]) {
      assert.deepEqual(await readAll(archive, sizes), whole, `chunks ${sizes.join(',')}`);
    }
    assert.equal(whole.length, 20);
  });

  it('skips bodies left unread, refuses a body read late, and drains the input', async () => {
    const archive = Buffer.concat([
      tarArchive([
        { name: 'a', content: Buffer.alloc(5000, 1) },
        { name: 'b', content: 'bee' },
      ]),
      Buffer.from('trailing bytes after the end of archive'),
    ]);
    let consumed = 0;
    async function* counting(): AsyncGenerator<Buffer> {
      for await (const chunk of chunked(archive, [333])) {
        consumed += chunk.length;
        yield chunk;
      }
    }
    const kept: TarEntry[] = [];
    const names: string[] = [];
    for await (const entry of readTar(counting())) {
      kept.push(entry);
      names.push(entry.header.name);
    }
    assert.deepEqual(names, ['a', 'b']);
    assert.equal(consumed, archive.length);
    await assert.rejects(async () => {
      for await (const _ of (kept[0] as TarEntry).body) {
        // reading after the reader moved on
      }
    }, /read after the next entry/);
  });

  it('streams a large body in bounded pieces without buffering it', async () => {
    const size = 64 * 1024 * 1024 + 5;
    const head = tarArchive([{ name: 'big', content: '' }], { trailer: false });
    // Patch the size into the header and recompute its checksum.
    const header = Buffer.from(head.subarray(0, 512));
    header.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 12, 'latin1');
    header.write('        ', 148, 8, 'latin1');
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'latin1');
    async function* source(): AsyncGenerator<Buffer> {
      yield header;
      const piece = Buffer.alloc(1024 * 1024, 0x61);
      for (let left = size; left > 0; left -= piece.length)
        yield piece.subarray(0, Math.min(left, piece.length));
      yield Buffer.alloc(512 - (size % 512) + 1024);
    }
    const before = process.memoryUsage().rss;
    let total = 0;
    let largest = 0;
    for await (const entry of readTar(source())) {
      for await (const part of entry.body) {
        total += part.length;
        largest = Math.max(largest, part.length);
      }
    }
    assert.equal(total, size);
    assert.ok(largest <= 1024 * 1024);
    assert.ok(process.memoryUsage().rss - before < 48 * 1024 * 1024, 'memory grew with the body');
  });
});
