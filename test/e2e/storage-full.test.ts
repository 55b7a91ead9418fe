/**
 * A full disk for real: a small tmpfs mounted by the test is Berth's storage root. A chunk
 * that fills it midway, and every push while it is full, gets 507 and leaves nothing behind;
 * pulls keep working; /readyz, /metrics and one log line say so; skopeo reports the status.
 */
import assert from 'node:assert/strict';
import { open, rm, statfs } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { pushImage } from '../helpers/oci.js';
import { removeDir, tempDir } from '../helpers/tmp.js';
import { type BerthProcess, startBerthProcess } from './helpers/berth-process.js';
import { ociLayout, randomFile } from './helpers/oci-layout.js';
import { run, runOk } from './helpers/run.js';
import { generatedBody, sendStream } from './helpers/stream-client.js';

const MiB = 1024 * 1024;
const TLS = ['--src-tls-verify=false', '--dest-tls-verify=false'];

/** Writes `file` until the filesystem refuses more (ENOSPC). */
async function fillDisk(file: string): Promise<void> {
  const handle = await open(file, 'w');
  try {
    for (const size of [MiB, 4096, 1]) {
      const block = Buffer.alloc(size, 7);
      for (;;) {
        try {
          await handle.write(block);
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'ENOSPC') break;
          throw err;
        }
      }
    }
  } finally {
    await handle.close();
  }
}

async function freeBytes(dir: string): Promise<number> {
  const stats = await statfs(dir);
  return stats.bavail * stats.bsize;
}

async function sessionRange(url: string): Promise<string> {
  const status = await request(url).get('').expect(204);
  return String(status.headers.range);
}

describe('a full disk (a 16 MiB tmpfs as storage root)', () => {
  let mountpoint: string;
  let work: string;
  let berth: BerthProcess;
  let mounted = false;
  before(async () => {
    mountpoint = await tempDir('berth-tmpfs-');
    await runOk('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', mountpoint]);
    mounted = true;
    berth = await startBerthProcess({ root: mountpoint });
    work = await tempDir('berth-full-work-');
  });
  after(async () => {
    await berth?.stop();
    if (mounted) await runOk('umount', [mountpoint]);
    await removeDir(mountpoint);
    await removeDir(work);
  });

  it('a chunk that fills the disk midway gets 507 and the session stays as it was', async () => {
    const free = await freeBytes(mountpoint);
    const started = await request(berth.url).post('/v2/full/app/blobs/uploads/').expect(202);
    const location = `${berth.url}${started.headers.location}`;
    const size = 32 * MiB;
    const patch = await sendStream(location, 'PATCH', generatedBody(size).stream, {
      'Content-Length': String(size),
    });
    assert.equal(patch.status, 507, patch.text);
    assert.match(JSON.parse(patch.text).errors[0].message, /out of storage space/);
    assert.equal(await sessionRange(location), '0-0');
    assert.ok((await freeBytes(mountpoint)) >= free - MiB, 'the failed chunk was cut off again');
  });

  it('while full, pushes get 507 (skopeo shows it), pulls work, and readyz, metrics and the log say so', async () => {
    const image = await pushImage(berth.url, 'full/app', 'v1', { layerSize: 100_000 });
    const layout = await ociLayout(path.join(work, 'layout'));
    const pending = await layout.image([[randomFile('data', 500_000)]]);
    await layout.finish([{ name: 'v2', descriptor: pending }]);
    await fillDisk(path.join(mountpoint, 'filler'));

    const started = await request(berth.url).post('/v2/full/app/blobs/uploads/');
    if (started.status === 202) {
      const location = `${berth.url}${started.headers.location}`;
      const patch = await sendStream(location, 'PATCH', generatedBody(MiB).stream, {
        'Content-Length': String(MiB),
      });
      assert.equal(patch.status, 507);
      assert.equal(await sessionRange(location), '0-0');
    } else {
      assert.equal(started.status, 507, 'even an empty session file may find no room');
    }
    await request(berth.url)
      .put('/v2/full/app/manifests/v2')
      .set('Content-Type', 'application/vnd.oci.image.manifest.v1+json')
      .send(image.manifest.toString('utf8'))
      .expect(507);
    const skopeo = await run('skopeo', [
      'copy',
      ...TLS,
      `oci:${work}/layout:v2`,
      `docker://${berth.host}/full/app:v2`,
    ]);
    assert.notEqual(skopeo.code, 0);
    assert.match(skopeo.stderr, /507 Insufficient Storage/);

    await request(berth.url).get(`/v2/full/app/blobs/${image.layer.digest}`).expect(200);
    await request(berth.url).get('/v2/full/app/manifests/v1').expect(200);
    const ready = await request(berth.url).get('/readyz').expect(200);
    assert.equal(ready.body.storage, 'full');
    const metrics = await request(berth.url).get('/metrics').expect(200);
    const refusals = Number(/^berth_storage_full_refusals_total (\d+)/m.exec(metrics.text)?.[1]);
    assert.ok(refusals >= 3, `refusals counted: ${refusals}`);
    const full = berth.logs.filter((line) => line.includes('storage is full'));
    assert.equal(full.length, 1, 'logged once, not per request');
    assert.ok(!berth.logs.some((line) => line.includes('request failed')));
  });

  it('once space is freed, the same push succeeds', async () => {
    await rm(path.join(mountpoint, 'filler'));
    await runOk('skopeo', ['copy', ...TLS, `oci:${work}/layout:v2`, `docker://${berth.host}/full/app:v2`]);
    await request(berth.url).head('/v2/full/app/manifests/v2').expect(200);
  });
});
