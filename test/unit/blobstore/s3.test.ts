/**
 * The S3 driver on s3rver: the contract suite twice (behind the proxy that enforces conditional
 * writes as AWS does, and on plain s3rver, which ignores them), then what only S3 has: pointer
 * commits that copy nothing, multipart staging, retries, an unreachable store.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { isNotFound, isUnavailable, type StorageDriver } from '../../../src/blobstore/driver.js';
import { createS3Driver } from '../../../src/blobstore/s3.js';
import { createS3DriverFixture, type S3DriverFixture, s3Options } from '../../helpers/s3-driver.js';
import { type S3TestServer, startS3Server } from '../../helpers/s3-server.js';
import { runDriverContract } from './contract.js';

const MIB = 1024 * 1024;
const started: Promise<S3TestServer>[] = [];

/** A server started on first use and disposed of after the file's tests. */
function lazyServer(conditional: boolean): () => Promise<S3TestServer> {
  let server: Promise<S3TestServer> | undefined;
  return () => {
    if (!server) {
      server = startS3Server({ conditional });
      started.push(server);
    }
    return server;
  };
}

const enforcing = lazyServer(true);
const plain = lazyServer(false);
after(async () => {
  for (const server of started) await (await server).dispose();
});

runDriverContract('s3, conditional writes enforced', async () => createS3DriverFixture(await enforcing()));
runDriverContract('s3, plain s3rver', async () => createS3DriverFixture(await plain()));

/** A source yielding `data` in pieces of `piece` bytes. */
function piecesOf(data: Buffer, piece: number): Readable {
  const pieces: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += piece)
    pieces.push(data.subarray(offset, offset + piece));
  return Readable.from(pieces);
}

async function sha256Of(stream: Readable): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of stream) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

describe('S3 driver on s3rver', () => {
  let server: S3TestServer;
  let fixture: S3DriverFixture;
  let driver: StorageDriver;
  before(async () => {
    server = await enforcing();
    fixture = await createS3DriverFixture(server);
    driver = fixture.driver;
  });
  after(async () => {
    const leftovers = await fixture.leftovers();
    await fixture.dispose();
    assert.deepEqual(leftovers, []);
  });

  it('detects conditional writes where they are enforced and not on plain s3rver', async () => {
    assert.equal(driver.conditionalWrites, true);
    const other = await createS3DriverFixture(await plain());
    assert.equal(other.driver.conditionalWrites, false);
    assert.deepEqual(await other.leftovers(), [], 'the probe object is gone');
    await other.dispose();
  });

  it('the root of a fresh bucket lists as empty, as a new storage directory does (readiness lists it)', async () => {
    const fresh = await createS3DriverFixture(server);
    assert.deepEqual(await fresh.driver.list('/'), []);
    await fresh.dispose();
  });

  it('a 40 MiB object written in three writes of odd sizes round-trips, and commits by pointer: no copy, no data read', async () => {
    const data = randomBytes(40 * MIB);
    const cuts = [7 * MIB + 3, 21 * MIB - 1];
    let staged = await driver.staged.start('/data/ab/forty');
    staged = await driver.staged.write(staged, piecesOf(data.subarray(0, cuts[0]), 1_000_003));
    staged = await driver.staged.write(staged, piecesOf(data.subarray(cuts[0], cuts[1]), 65_537));
    staged = await driver.staged.write(staged, piecesOf(data.subarray(cuts[1]), 3 * MIB + 11));
    assert.equal(staged.size, data.length);

    const seen = server.requests.length;
    await driver.staged.commit(JSON.parse(JSON.stringify(staged)), '/blobs/sha256/ab/forty');
    const during = server.requests
      .slice(seen)
      .filter((request) => request.key.startsWith(fixture.rootDirectory));
    const operations = during.map((request) => request.operation);
    assert.ok(operations.includes('CompleteMultipartUpload'), operations.join(' '));
    assert.ok(!operations.includes('CopyObject') && !operations.includes('UploadPart'), operations.join(' '));
    const dataReads = during.filter(
      (request) => request.operation === 'GetObject' && !request.key.endsWith('.head'),
    );
    assert.deepEqual(dataReads, [], 'commit reads no data');

    assert.equal((await driver.stat('/blobs/sha256/ab/forty')).size, data.length);
    const expected = createHash('sha256').update(data).digest('hex');
    assert.equal(await sha256Of(await driver.reader('/blobs/sha256/ab/forty')), expected);
    const across = await driver.reader('/blobs/sha256/ab/forty', 5 * MIB - 10, 20);
    assert.equal(
      await sha256Of(across),
      createHash('sha256')
        .update(data.subarray(5 * MIB - 10, 5 * MIB + 10))
        .digest('hex'),
    );
    await driver.delete('/blobs/sha256/ab/forty');
  });

  it('a small staged object commits as a pointer to its tail, without a copy either', async () => {
    const staged = await driver.staged.write(
      await driver.staged.start('/data/cd/small'),
      piecesOf(randomBytes(1000), 100),
    );
    const seen = server.requests.length;
    await driver.staged.commit(staged, '/blobs/sha256/cd/small');
    const operations = server.requests.slice(seen).map((request) => `${request.operation} ${request.key}`);
    assert.ok(
      !operations.some((line) => /^(CopyObject|UploadPart)|^GetObject .*\.t-/.test(line)),
      operations.join('\n'),
    );
    assert.equal((await driver.getContent('/blobs/sha256/cd/small')).length, 1000);
    await driver.delete('/blobs/sha256/cd/small');
  });

  it('another replica re-reads a cached pointer that was replaced, and finds a deleted blob gone', async () => {
    const other = await createS3Driver({ ...s3Options(server, fixture.rootDirectory), redirect: false });
    const staged = await driver.staged.write(
      await driver.staged.start('/data/ef/shared'),
      piecesOf(Buffer.from('shared bytes'), 4),
    );
    await driver.staged.commit(staged, '/blobs/sha256/ef/shared');
    assert.equal((await other.getContent('/blobs/sha256/ef/shared')).toString(), 'shared bytes');
    // Replaced through this driver (the old data goes): the other re-reads the pointer.
    const newer = await driver.staged.write(
      await driver.staged.start('/data/ef/newer'),
      piecesOf(Buffer.from('newer'), 2),
    );
    await driver.staged.commit(newer, '/blobs/sha256/ef/shared');
    assert.equal((await other.getContent('/blobs/sha256/ef/shared')).toString(), 'newer');
    await driver.delete('/blobs/sha256/ef/shared');
    await assert.rejects(other.getContent('/blobs/sha256/ef/shared'), (err: unknown) => isNotFound(err));
    await assert.rejects(other.reader('/blobs/sha256/ef/shared', 2, 3), (err: unknown) => isNotFound(err));
  });

  it('deleting a tree deletes the data of the committed objects in it', async () => {
    const staged = await driver.staged.write(
      await driver.staged.start('/data/gh/tree'),
      piecesOf(Buffer.from('in a tree'), 3),
    );
    await driver.staged.commit(staged, '/tree/blobs/one');
    await driver.putContent('/tree/marker', Buffer.alloc(0));
    await driver.delete('/tree');
    await assert.rejects(driver.list('/data/gh'), (err: unknown) => isNotFound(err), 'the data is gone too');
  });

  it('a staged write holds a few parts in memory, not the object: 160 MiB grows RSS by far less', async () => {
    const block = randomBytes(MIB);
    async function* source(): AsyncGenerator<Buffer> {
      for (let sent = 0; sent < 160 * MIB; sent += 64 * 1024)
        yield block.subarray(sent % MIB, (sent % MIB) + 64 * 1024);
    }
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 10);
    try {
      const staged = await driver.staged.write(
        await driver.staged.start('/data/me/mory'),
        Readable.from(source()),
      );
      assert.equal(staged.size, 160 * MIB);
      await driver.staged.discard(staged);
    } finally {
      clearInterval(sampler);
    }
    // Three 5 MiB parts, plus the proxy and the SDK in this same process.
    const grown = (peak - before) / MIB;
    assert.ok(grown < 100, `RSS grew by ${grown.toFixed(0)} MiB`);
  });

  it('a transient 503 SlowDown is retried until the request succeeds; a lasting one is StorageUnavailableError', async () => {
    server.inject({ operation: 'PutObject', key: /retried$/, status: 503, code: 'SlowDown', times: 2 });
    await driver.putContent('/flaky/retried', Buffer.from('made it'));
    const puts = server.requests.filter((request) => request.key.endsWith('/flaky/retried'));
    assert.deepEqual(
      puts.map((request) => request.status),
      [503, 503, 200],
    );
    assert.equal((await driver.getContent('/flaky/retried')).toString(), 'made it');

    // The fixture's drivers make 3 attempts.
    server.inject({ operation: 'GetObject', key: /retried$/, status: 500, code: 'InternalError', times: 3 });
    await assert.rejects(driver.getContent('/flaky/retried'), (err: unknown) => isUnavailable(err));
  });
});
