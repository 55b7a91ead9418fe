import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import request from 'supertest';
import { orMissing } from '../../src/blobstore/driver.js';
import { TOMBSTONES_ROOT } from '../../src/blobstore/layout.js';
import type { UntaggedPolicy } from '../../src/gc/candidates.js';
import { type CollectOptions, collectGarbage } from '../../src/gc/collect.js';
import { runCollection } from '../../src/gc/run.js';
import { TOMBSTONE_CHECK_OFF_VARIABLE } from '../../src/registry/tombstones.js';
import { createGate, faultyDriver } from '../helpers/faulty-driver.js';
import {
  imageIndex,
  imageManifest,
  jsonBlob,
  manifestDescriptor,
  OCI_INDEX,
  ociError,
  pushBlob,
  pushImage,
  pushManifest,
  randomBlob,
} from '../helpers/oci.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

function sha256Of(body: Buffer): string {
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}

const CONFIG = jsonBlob({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } });

/**
 * A run with the server's own `gc.deletedelay`: the servers' tombstone check relies on GC
 * keeping tombstones that long after deleting (docs/gc.md).
 */
function gcOptions(server: TestServer, overrides: Partial<CollectOptions> = {}): CollectOptions {
  return {
    driver: server.driver,
    gracePeriodMs: 0,
    deleteDelayMs: server.config.gc.deletedelay,
    leaseTtlMs: 60_000,
    ...overrides,
  };
}

/** A server whose metadata is never cached, with GC's delay `deleteDelay`. */
function startGcServer(deleteDelay: string): Promise<TestServer> {
  return startTestServer({ config: { gc: { deletedelay: deleteDelay }, storage: { cache: { ttl: '0s' } } } });
}

async function blobStatus(server: TestServer, name: string, digest: string): Promise<number> {
  return (await request(server.url).head(`/v2/${name}/blobs/${digest}`)).status;
}

async function tombstones(server: TestServer): Promise<string[]> {
  return orMissing(server.driver.list(TOMBSTONES_ROOT), []);
}

/** Pushes a blob that no manifest references: the GC candidate of these tests. */
async function pushLoneBlob(server: TestServer, name: string) {
  const layer = randomBlob(2048);
  await pushBlob(server.url, name, layer.content);
  await pushBlob(server.url, name, CONFIG.content);
  return layer;
}

describe('garbage collection', () => {
  let server: TestServer;
  beforeEach(async () => {
    server = await startGcServer('50ms');
  });
  afterEach(() => server.close());

  it('deletes blobs and links no manifest references, keeps tagged images whole, and leaves no tombstone', async () => {
    const kept = await pushImage(server.url, 'gc/app', 'v1');
    const lone = await pushLoneBlob(server, 'gc/app');
    const dropped = await pushImage(server.url, 'gc/other', 'old', { layerSize: 4096 });
    await request(server.url).delete(`/v2/gc/other/manifests/${dropped.digest}`).expect(202);

    const report = await collectGarbage(gcOptions(server));

    assert.equal(report.deleted.blobs, 2, 'the lone layer and the deleted image layer');
    assert.equal(report.deleted.links, 3, 'lone layer link, and the deleted image layer and config links');
    assert.equal(report.bytesFreed, 2048 + 4096);
    assert.equal(report.revived, 0);
    assert.equal(await blobStatus(server, 'gc/app', lone.descriptor.digest), 404);
    assert.equal(await blobStatus(server, 'gc/other', dropped.layer.digest), 404);
    assert.equal(await blobStatus(server, 'gc/app', kept.layer.digest), 200);
    assert.equal(
      await blobStatus(server, 'gc/app', kept.config.digest),
      200,
      'a config shared with a deleted image',
    );
    await request(server.url).get(`/v2/gc/app/manifests/v1`).expect(200);
    await request(server.url).get(`/v2/gc/app/blobs/${kept.layer.digest}`).expect(200);
    assert.deepEqual(await tombstones(server), []);
    assert.ok(report.phases.mark !== undefined && report.phases.delete !== undefined);
  });

  it('a dry run reports what a run would delete and deletes nothing', async () => {
    const lone = await pushLoneBlob(server, 'gc/dry');
    const report = await collectGarbage(gcOptions(server, { dryRun: true }));
    assert.equal(report.dryRun, true);
    assert.equal(report.deleted.blobs, 2, 'the layer and the config');
    assert.equal(report.bytesFreed, 2048 + CONFIG.content.length);
    assert.equal(await blobStatus(server, 'gc/dry', lone.descriptor.digest), 200);
    assert.deepEqual(await tombstones(server), []);
  });

  it('keeps blobs younger than the grace period', async () => {
    const lone = await pushLoneBlob(server, 'gc/young');
    const report = await collectGarbage(gcOptions(server, { gracePeriodMs: 3_600_000 }));
    assert.equal(report.deleted.blobs, 0);
    assert.equal(await blobStatus(server, 'gc/young', lone.descriptor.digest), 200);
  });

  it('a manifest pushed while its layer is tombstoned revives it, and the image pulls after the run', async () => {
    await server.close();
    server = await startGcServer('1500ms');
    const lone = await pushLoneBlob(server, 'gc/revive');
    const run = collectGarbage(gcOptions(server));
    await waitFor(async () => (await tombstones(server)).length > 0, 10_000);
    const manifest = imageManifest({ config: CONFIG.descriptor, layers: [lone.descriptor] });
    await pushManifest(server.url, 'gc/revive', 'v1', manifest);
    const report = await run;
    assert.equal(report.deleted.blobs, 0);
    assert.ok(report.revived >= 2, `the layer and its link were revived (${report.revived})`);
    await request(server.url).get(`/v2/gc/revive/blobs/${lone.descriptor.digest}`).expect(200);
  });

  it('a mount from a repository whose link is tombstoned revives it', async () => {
    await server.close();
    server = await startGcServer('1500ms');
    const lone = await pushLoneBlob(server, 'gc/source');
    const run = collectGarbage(gcOptions(server));
    await waitFor(async () => (await tombstones(server)).length > 0, 10_000);
    await request(server.url)
      .post(`/v2/gc/target/blobs/uploads/?mount=${lone.descriptor.digest}&from=gc/source`)
      .expect(201);
    await pushManifest(
      server.url,
      'gc/target',
      'v1',
      imageManifest({ config: CONFIG.descriptor, layers: [lone.descriptor] }),
    ).catch(() => undefined);
    const report = await run;
    assert.equal(await blobStatus(server, 'gc/target', lone.descriptor.digest), 200);
    assert.ok(report.revived >= 1);
  });
});

describe('garbage collection racing a push it has already claimed', () => {
  for (const check of [true, false]) {
    it(
      check
        ? 'the push fails with MANIFEST_BLOB_UNKNOWN, leaves no tag behind, and pushing again works'
        : 'without the tombstone check (the negative control) the push succeeds and its layer is lost',
      async () => {
        const previous = process.env[TOMBSTONE_CHECK_OFF_VARIABLE];
        if (!check) process.env[TOMBSTONE_CHECK_OFF_VARIABLE] = '1';
        const server = await startGcServer('50ms');
        if (previous === undefined) delete process.env[TOMBSTONE_CHECK_OFF_VARIABLE];
        else process.env[TOMBSTONE_CHECK_OFF_VARIABLE] = previous;
        try {
          const lone = await pushLoneBlob(server, 'gc/race');
          // GC stops in front of its delete, after claiming; the push comes then.
          const gate = createGate();
          const gcDriver = faultyDriver(server.driver);
          gcDriver.inject({ operation: 'deleteMany', delay: gate.wait, times: 1 });
          const run = collectGarbage({ ...gcOptions(server), driver: gcDriver });
          await gate.reached;
          const manifest = imageManifest({ config: CONFIG.descriptor, layers: [lone.descriptor] });
          const push = request(server.url)
            .put('/v2/gc/race/manifests/v1')
            .set('Content-Type', 'application/vnd.oci.image.manifest.v1+json')
            .send(manifest.toString('utf8'))
            .then((response) => response);
          await new Promise((resolve) => setTimeout(resolve, 300));
          gate.open();
          const [response, report] = await Promise.all([push, run]);
          assert.equal(report.deleted.blobs, 2, 'GC deleted the layer and config it had claimed');
          if (!check) {
            assert.equal(response.status, 201, 'nothing told the push');
            await request(server.url).get(`/v2/gc/race/blobs/${lone.descriptor.digest}`).expect(404);
            return;
          }
          assert.equal(response.status, 400, response.text);
          assert.equal(ociError(response.body).code, 'MANIFEST_BLOB_UNKNOWN');
          await request(server.url).head('/v2/gc/race/manifests/v1').expect(404);
          await pushBlob(server.url, 'gc/race', lone.content);
          await pushBlob(server.url, 'gc/race', CONFIG.content);
          await pushManifest(server.url, 'gc/race', 'v1', manifest);
          await request(server.url).get(`/v2/gc/race/blobs/${lone.descriptor.digest}`).expect(200);
        } finally {
          await server.close();
        }
      },
    );
  }
});

describe('garbage collection on a schedule (gc.interval)', () => {
  it('a server collects by itself and counts the run in /metrics', async () => {
    const server = await startTestServer({
      config: {
        gc: { interval: '1s', graceperiod: '0s', deletedelay: '100ms' },
        storage: { cache: { ttl: '0s' } },
      },
    });
    try {
      const lone = await pushLoneBlob(server, 'gc/scheduled');
      await waitFor(
        async () => (await blobStatus(server, 'gc/scheduled', lone.descriptor.digest)) === 404,
        30_000,
      );
      await waitFor(async () => {
        const text = (await request(server.url).get('/metrics')).text;
        return /berth_gc_runs_total\{outcome="completed"\} [1-9]/.test(text);
      }, 10_000);
      const text = (await request(server.url).get('/metrics')).text;
      assert.match(text, /berth_gc_deleted_objects_total\{kind="blob"\} [2-9]/);
      assert.match(text, /berth_gc_freed_bytes_total [1-9]/);
      assert.ok(server.logs.some((line) => line.includes('"msg":"gc finished"')));
    } finally {
      await server.close();
    }
  });
});

describe('garbage collection of untagged manifests (a retention rule lets them go)', () => {
  /** Every untagged manifest goes: the simplest policy, to test GC's side of it. */
  const everyUntagged: UntaggedPolicy = {
    applies: () => true,
    select: (repo, roots) => [...repo.manifests.keys()].filter((digest) => !roots.has(digest)),
  };
  let server: TestServer;
  afterEach(() => server.close());

  it('tags and tag history are roots: a manifest a tag once pointed at stays, with its layers', async () => {
    server = await startGcServer('50ms');
    const tagged = await pushImage(server.url, 'gc/untagged', 'v1');
    const untagged = await pushImage(server.url, 'gc/untagged', 'gone', { layerSize: 3000 });
    await request(server.url).delete('/v2/gc/untagged/manifests/gone').expect(202);
    const once = await pushImage(server.url, 'gc/untagged', 'moved', { layerSize: 4000 });
    await pushImage(server.url, 'gc/untagged', 'moved', { layerSize: 5000 });

    const report = await collectGarbage(gcOptions(server, { untagged: everyUntagged }));

    assert.equal(
      report.deleted.manifests,
      0,
      'a manifest whose tag was deleted or moved is in the tag history',
    );
    await request(server.url).head(`/v2/gc/untagged/manifests/${tagged.digest}`).expect(200);
    await request(server.url).head(`/v2/gc/untagged/manifests/${once.digest}`).expect(200);
    await request(server.url).get(`/v2/gc/untagged/blobs/${once.layer.digest}`).expect(200);
    assert.equal(await blobStatus(server, 'gc/untagged', untagged.layer.digest), 200, 'history keeps it too');
  });

  it('a manifest pushed by digest and never tagged goes with its own layer', async () => {
    server = await startGcServer('50ms');
    const kept = await pushImage(server.url, 'gc/bydigest', 'v1');
    const layer = randomBlob(6000);
    await pushBlob(server.url, 'gc/bydigest', layer.content);
    await pushBlob(server.url, 'gc/bydigest', CONFIG.content);
    const manifest = imageManifest({ config: CONFIG.descriptor, layers: [layer.descriptor] });
    const digest = await pushManifest(server.url, 'gc/bydigest', sha256Of(manifest), manifest);

    const report = await collectGarbage(gcOptions(server, { untagged: everyUntagged }));

    assert.equal(report.deleted.manifests, 1);
    assert.equal(report.deleted.blobs, 1, 'its layer; the config is shared with the tagged image');
    await request(server.url).head(`/v2/gc/bydigest/manifests/${digest}`).expect(404);
    assert.equal(await blobStatus(server, 'gc/bydigest', layer.descriptor.digest), 404);
    await request(server.url).get(`/v2/gc/bydigest/manifests/v1`).expect(200);
    await request(server.url).get(`/v2/gc/bydigest/blobs/${kept.layer.digest}`).expect(200);
  });

  it('tagging the manifest while it is tombstoned keeps it and its layer', async () => {
    server = await startGcServer('1500ms');
    const layer = randomBlob(7000);
    await pushBlob(server.url, 'gc/tagnow', layer.content);
    await pushBlob(server.url, 'gc/tagnow', CONFIG.content);
    const manifest = imageManifest({ config: CONFIG.descriptor, layers: [layer.descriptor] });
    const digest = await pushManifest(server.url, 'gc/tagnow', sha256Of(manifest), manifest);
    const run = collectGarbage(gcOptions(server, { untagged: everyUntagged }));
    await waitFor(async () => (await tombstones(server)).length > 0, 10_000);
    await pushManifest(server.url, 'gc/tagnow', 'v1', manifest);
    const report = await run;
    assert.equal(report.deleted.manifests, 0);
    assert.equal(report.deleted.blobs, 0);
    await request(server.url).get(`/v2/gc/tagnow/manifests/${digest}`).expect(200);
    await request(server.url).get(`/v2/gc/tagnow/blobs/${layer.descriptor.digest}`).expect(200);
  });
});

describe('garbage collection of empty repositories', () => {
  let server: TestServer;
  afterEach(() => server.close());

  async function catalog(): Promise<string[]> {
    return (await request(server.url).get('/v2/_catalog').expect(200)).body.repositories as string[];
  }

  it('a repository left with nothing leaves the catalog; one still holding an image stays', async () => {
    server = await startGcServer('50ms');
    await pushImage(server.url, 'gc/stays', 'v1');
    const gone = await pushImage(server.url, 'gc/emptied', 'v1');
    await request(server.url).delete(`/v2/gc/emptied/manifests/${gone.digest}`).expect(202);
    const first = await collectGarbage(gcOptions(server));
    assert.equal(first.deleted.links, 2, 'its layer and config links go first');
    const second = await collectGarbage(gcOptions(server));
    assert.equal(second.deleted.repositories, 1);
    assert.deepEqual(await catalog(), ['gc/stays']);
    await pushImage(server.url, 'gc/emptied', 'v2');
    assert.deepEqual(await catalog(), ['gc/emptied', 'gc/stays'], 'a push makes it again');
  });

  it('a push into a repository whose marker is tombstoned keeps it in the catalog', async () => {
    server = await startGcServer('1500ms');
    const gone = await pushImage(server.url, 'gc/refilled', 'v1');
    await request(server.url).delete(`/v2/gc/refilled/manifests/${gone.digest}`).expect(202);
    await collectGarbage(gcOptions(server));
    const run = collectGarbage(gcOptions(server));
    await waitFor(async () => (await tombstones(server)).length > 0, 10_000);
    await pushImage(server.url, 'gc/refilled', 'v2');
    const report = await run;
    assert.equal(report.deleted.repositories, 0);
    assert.deepEqual(await catalog(), ['gc/refilled']);
  });
});

describe('garbage collection with retention.rules (untagged: 0s)', () => {
  it('deletes a never-tagged manifest; keeps the children of a tagged index and the referrers of a tagged image', async () => {
    const server = await startTestServer({
      config: {
        gc: { deletedelay: '50ms', graceperiod: '0s' },
        retention: { rules: [{ repository: 'gc/**', untagged: '0s' }] },
        storage: { cache: { ttl: '0s' } },
      },
    });
    const byDigest = (body: Buffer, mediaType?: string) =>
      pushManifest(server.url, 'gc/rules', sha256Of(body), body, mediaType);
    try {
      const image = await pushImage(server.url, 'gc/rules', 'v1');
      const child = imageManifest({ config: image.config, layers: [image.layer] });
      const childDigest = await byDigest(child);
      await pushManifest(server.url, 'gc/rules', 'multi', imageIndex([manifestDescriptor(child)]), OCI_INDEX);
      const signature = imageManifest({
        config: image.config,
        layers: [],
        subject: manifestDescriptor(image.manifest),
      });
      const signatureDigest = await byDigest(signature);
      const layer = randomBlob(8000);
      await pushBlob(server.url, 'gc/rules', layer.content);
      const loneDigest = await byDigest(imageManifest({ config: image.config, layers: [layer.descriptor] }));

      const outcome = await runCollection({
        driver: server.driver,
        gc: server.config.gc,
        retention: server.config.retention.rules,
      });

      assert.ok(outcome.ran);
      assert.equal(outcome.value.deleted.manifests, 1, 'the lone untagged manifest');
      await request(server.url).head(`/v2/gc/rules/manifests/${loneDigest}`).expect(404);
      assert.equal(await blobStatus(server, 'gc/rules', layer.descriptor.digest), 404, 'and its own layer');
      await request(server.url).head(`/v2/gc/rules/manifests/${childDigest}`).expect(200);
      await request(server.url).head(`/v2/gc/rules/manifests/${signatureDigest}`).expect(200);
      const referrers = await request(server.url).get(`/v2/gc/rules/referrers/${image.digest}`).expect(200);
      assert.equal(referrers.body.manifests.length, 1, 'the signature stays listed with its subject');
    } finally {
      await server.close();
    }
  });
});
