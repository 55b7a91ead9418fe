import assert from 'node:assert/strict';
import { type Readable, Transform } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { createApp } from '../../src/app.js';
import { OPEN_AUTHORIZER } from '../../src/auth/authorizer.js';
import { type StorageDriver, StorageFullError } from '../../src/blobstore/driver.js';
import { createFilesystemDriver } from '../../src/blobstore/filesystem.js';
import { buildConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log/logger.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { createRegistry } from '../../src/registry/registry.js';
import type { SpaceReport } from '../../src/registry/storage-space.js';
import { type RunningServer, startServer } from '../../src/server.js';
import { binary, ociError, pushBlob, pushImage, randomBlob } from '../helpers/oci.js';
import { removeDir, tempDir } from '../helpers/tmp.js';

/** The error the kernel gives a write to a full disk. */
function enospc(): NodeJS.ErrnoException {
  return Object.assign(new Error('ENOSPC: no space left on device, write'), {
    code: 'ENOSPC',
    syscall: 'write',
  });
}

/**
 * A real filesystem driver whose disk fills up on demand: once `full`, a staged write fails
 * with ENOSPC after `bytesBeforeFailure` more bytes (midway through the chunk, as a real disk
 * would), and an object write is refused as the driver contract says.
 */
function fillingDriver(inner: StorageDriver, bytesBeforeFailure: number) {
  const disk = { full: false };
  const failingMidway = (source: Readable): Readable => {
    let written = 0;
    const tap = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        written += chunk.length;
        callback(written > bytesBeforeFailure ? enospc() : null, chunk);
      },
    });
    return source.pipe(tap);
  };
  const driver: StorageDriver = {
    ...inner,
    staged: {
      ...inner.staged,
      write: (staged, source) => inner.staged.write(staged, disk.full ? failingMidway(source) : source),
    },
    putContent: (path, content, condition) =>
      disk.full && content.length > 0
        ? Promise.reject(new StorageFullError(path, { cause: enospc() }))
        : inner.putContent(path, content, condition),
  };
  return { driver, disk };
}

describe('storage full', () => {
  let server: RunningServer;
  let root: string;
  let disk: { full: boolean };
  const logs: string[] = [];
  const reports: SpaceReport[] = [];
  let refusals = 0;
  before(async () => {
    root = await tempDir('berth-full-');
    const filling = fillingDriver(await createFilesystemDriver({ rootDirectory: root }), 256 * 1024);
    disk = filling.disk;
    const registry = createRegistry({
      driver: filling.driver,
      deleteEnabled: true,
      cache: 'none',
      manifestLimits: { maxDescriptors: 10_000 },
      storageFull: { onRefused: () => refusals++, onReport: (report) => reports.push(report) },
    });
    const { config } = buildConfig({}, {}, 'test');
    const logger = createLogger({ level: 'debug', formatter: 'json', write: (line) => logs.push(line) });
    const app = createApp({
      registry,
      logger,
      metrics: createMetrics(),
      auth: { authorizer: OPEN_AUTHORIZER, tokenService: undefined },
      config,
    });
    server = await startServer(app, '127.0.0.1:0');
  });
  after(async () => {
    await server.close(100);
    await removeDir(root);
  });

  it('pushes get 507 saying the registry is out of space, sessions stay as they were, pulls keep working', async () => {
    const image = await pushImage(server.url, 'full/app', 'v1', { layerSize: 4096 });
    const session = await request(server.url).post('/v2/full/app/blobs/uploads/').expect(202);
    const location = session.headers.location as string;
    await request(server.url).patch(location).send(Buffer.alloc(1000, 1)).expect(202);
    disk.full = true;

    const blob = randomBlob(2 * 1024 * 1024);
    const patch = await request(server.url)
      .patch(location)
      .set('Content-Type', 'application/octet-stream')
      .send(blob.content)
      .expect(507);
    assert.equal(ociError(patch.body).code, 'UNKNOWN');
    assert.match(ociError(patch.body).message, /out of storage space/);
    const status = await request(server.url).get(location).expect(204);
    assert.equal(status.headers.range, '0-999', 'the failed chunk left nothing behind');

    const monolithic = await request(server.url)
      .post(`/v2/full/app/blobs/uploads/?digest=${blob.descriptor.digest}`)
      .set('Content-Type', 'application/octet-stream')
      .send(blob.content)
      .expect(507);
    assert.match(ociError(monolithic.body).message, /out of storage space/);
    await request(server.url)
      .put('/v2/full/app/manifests/v2')
      .set('Content-Type', 'application/vnd.oci.image.manifest.v1+json')
      .send(image.manifest.toString('utf8'))
      .expect(507);

    const pulled = await request(server.url)
      .get(`/v2/full/app/blobs/${image.layer.digest}`)
      .buffer(true)
      .parse(binary)
      .expect(200);
    assert.equal(pulled.body.length, 4096);
    await request(server.url).get('/v2/full/app/manifests/v1').expect(200);

    const ready = await request(server.url).get('/readyz').expect(200);
    assert.equal(ready.body.status, 'degraded');
    assert.equal(ready.body.storage, 'full');
    assert.ok(!Number.isNaN(Date.parse(ready.body.full_since)));

    assert.equal(refusals, 3, 'every refused write is counted');
    assert.equal(reports.length, 1, 'reported once per interval, not per request');
    assert.equal(reports[0]?.refused, 1);
    assert.deepEqual(
      logs.filter((line) => line.includes('"level":"error"')),
      [],
      'no stack per refused request',
    );
  });

  it('once space is back, pushes work again', async () => {
    disk.full = false;
    await pushBlob(server.url, 'full/app', randomBlob(10_000).content);
  });
});
