import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { open, writeFile } from 'node:fs/promises';
import { createServer, get } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { PassThrough, pipeline, Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createBufferPool, FileReadStream } from '../../src/blobstore/file-read-stream.js';
import { removeDir, tempDir } from '../helpers/tmp.js';

/** A destination that acknowledges writes late and keeps a copy of what it was given. */
function slowSink(delayMs: number): { sink: Writable; received: () => Buffer } {
  const copies: Buffer[] = [];
  const held: Buffer[] = [];
  const sink = new Writable({
    highWaterMark: 16,
    write(chunk: Buffer, _encoding, callback) {
      held.push(chunk);
      copies.push(Buffer.from(chunk));
      setTimeout(() => {
        // Until the callback, the chunk handed to us must not have changed.
        assert.ok(
          chunk.equals(copies[copies.length - held.length] as Buffer),
          'a buffer was reused before its write finished',
        );
        held.shift();
        callback();
      }, delayMs);
    },
  });
  return { sink, received: () => Buffer.concat(copies) };
}

describe('FileReadStream', () => {
  let dir: string;
  let file: string;
  const data = randomBytes(5 * 1024 * 1024 + 123);
  before(async () => {
    dir = await tempDir();
    file = path.join(dir, 'blob');
    await writeFile(file, data);
  });
  after(() => removeDir(dir));

  it('piped into an HTTP response: the exact window arrives, through pooled buffers', async () => {
    const pool = createBufferPool();
    const given: Buffer[] = [];
    const counting = {
      take: (size: number) => pool.take(size),
      give: (b: Buffer) => {
        given.push(b);
        pool.give(b);
      },
    };
    const server = createServer(async (_req, res) => {
      res.writeHead(200, { 'Content-Length': String(data.length - 2000) });
      new FileReadStream(await open(file), 1000, data.length - 2000, counting).pipe(res);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      for (let round = 0; round < 3; round++) {
        const response = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
        const body = Buffer.from(await response.arrayBuffer());
        assert.ok(body.equals(data.subarray(1000, data.length - 1000)), `round ${round}`);
      }
    } finally {
      server.close();
    }
    // Buffers go back when their writes complete, which can be just after the client has read
    // the last bytes: give the server's write callbacks a moment on a busy machine.
    for (let wait = 0; wait < 100 && given.length < 15; wait++) await new Promise((r) => setTimeout(r, 20));
    assert.ok(given.length >= 15, 'buffers went back to the pool after their writes');
  });

  it('piped into any other writable: plain fresh buffers, never reused early', async () => {
    const { sink, received } = slowSink(2);
    const stream = new FileReadStream(await open(file), 1000, data.length - 2000, createBufferPool());
    await new Promise<void>((resolve, reject) =>
      pipeline(stream, sink, (err) => (err ? reject(err) : resolve())),
    );
    assert.ok(received().equals(data.subarray(1000, data.length - 1000)));
  });

  it('consumed by iteration: fresh buffers, same bytes', async () => {
    const stream = new FileReadStream(await open(file), 0, data.length, createBufferPool());
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    assert.ok(Buffer.concat(chunks).equals(data));
    assert.equal(
      new Set(chunks.map((chunk) => chunk.buffer)).size,
      chunks.length,
      'every chunk has its own memory',
    );
  });

  it('piped into a PassThrough that is read later still gives the right bytes', async () => {
    const through = new PassThrough();
    const stream = new FileReadStream(await open(file), 0, data.length, createBufferPool());
    stream.pipe(through);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const chunks: Buffer[] = [];
    for await (const chunk of through) chunks.push(chunk as Buffer);
    assert.ok(Buffer.concat(chunks).equals(data));
  });

  it('a destination that goes away stops the stream and closes the file', async () => {
    const handle = await open(file);
    const stream = new FileReadStream(handle, 0, data.length, createBufferPool());
    let written = 0;
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        written += chunk.length;
        if (written > 1024 * 1024) sink.destroy();
        callback();
      },
    });
    await new Promise<void>((resolve) => pipeline(stream, sink, () => resolve()));
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(stream.destroyed);
    await assert.rejects(handle.stat(), /EBADF|closed/i, 'the file handle is closed');
  });

  it('a client that disconnects mid-download stops the pooled pump and closes the file', async () => {
    const handle = await open(file);
    const stream = new FileReadStream(handle, 0, data.length, createBufferPool());
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'Content-Length': String(data.length) });
      pipeline(stream, res, () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await new Promise<void>((resolve) => {
        const req = get(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, (res) => {
          res.once('data', () => {
            req.destroy();
            resolve();
          });
        });
        req.on('error', () => {});
      });
      await new Promise((resolve) => setTimeout(resolve, 100));
      assert.ok(stream.destroyed);
      await assert.rejects(handle.stat(), /EBADF|closed/i, 'the file handle is closed');
    } finally {
      server.close();
    }
  });

  it('an empty window ends at once', async () => {
    const { sink, received } = slowSink(0);
    const stream = new FileReadStream(await open(file), 10, 0, createBufferPool());
    await new Promise<void>((resolve, reject) =>
      pipeline(stream, sink, (err) => (err ? reject(err) : resolve())),
    );
    assert.equal(received().length, 0);
  });
});
