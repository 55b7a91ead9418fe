/**
 * `berth fsck [--repair]` on the filesystem and on S3 (s3rver), against a store two replicas
 * serve: a clean store, damage found and quarantined, leftovers of crashes swept by age while
 * open upload sessions keep theirs, the JSON shape, and a push going on during runs.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import type { FileInfo } from '../../src/blobstore/driver.js';
import {
  blobDataPath,
  DATA_ROOT,
  quarantinePath,
  stagedDataPath,
  tagPath,
  uploadPath,
} from '../../src/blobstore/layout.js';
import type { Digest } from '../../src/registry/digest.js';
import type { RepositoryName, Tag } from '../../src/registry/names.js';
import { type FsckStore, fsck, startFsckStore } from '../helpers/fsck-store.js';
import {
  binary,
  imageIndex,
  imageManifest,
  jsonBlob,
  manifestDescriptor,
  OCI_INDEX,
  pushBlob,
  pushImage,
  pushManifest,
  randomBlob,
} from '../helpers/oci.js';

const MIB = 1024 * 1024;
const DAYS_AGO_2 = () => new Date(Date.now() - 2 * 24 * 3_600_000);

interface Report {
  clean: boolean;
  checked: Record<string, number>;
  broken: Array<{ kind: string; item: string; path: string; problem: string; action?: string }>;
  leftovers: Array<{ kind: string; path: string; size: number; modTime: string; action?: string }>;
  quarantine?: string;
}

async function fsckJson(store: FsckStore, ...args: string[]): Promise<{ code: number; report: Report }> {
  const result = await fsck(store, '--json', ...args);
  return { code: result.code, report: JSON.parse(result.stdout) as Report };
}

async function blobOf(url: string, name: string, digest: string): Promise<{ status: number; body: Buffer }> {
  const response = await request(url).get(`/v2/${name}/blobs/${digest}`).buffer(true).parse(binary);
  return { status: response.status, body: response.body as Buffer };
}

/** Pushes an image of a config and one layer, keeping the layer's bytes. */
async function pushKnownImage(url: string, name: string, tag: string) {
  const config = jsonBlob({ architecture: 'amd64', os: 'linux', name, tag });
  const layer = randomBlob(64 * 1024);
  await pushBlob(url, name, config.content);
  await pushBlob(url, name, layer.content);
  const manifest = imageManifest({ config: config.descriptor, layers: [layer.descriptor] });
  const digest = await pushManifest(url, name, tag, manifest);
  return {
    manifest,
    digest,
    config: config.descriptor,
    layer: layer.descriptor,
    layerContent: layer.content,
  };
}

async function startUpload(url: string, name: string): Promise<{ location: string; id: string }> {
  const started = await request(url).post(`/v2/${name}/blobs/uploads/`).expect(202);
  const location = started.headers.location as string;
  return { location, id: location.split('/').pop() as string };
}

/** A session holding one acknowledged chunk larger than an S3 part (a multipart upload on S3). */
async function patchedSession(url: string, name: string) {
  const blob = randomBlob(6 * MIB);
  const session = await startUpload(url, name);
  await request(url)
    .patch(session.location)
    .set('Content-Range', `0-${blob.content.length - 1}`)
    .send(blob.content)
    .expect(202);
  return { ...session, blob };
}

/** Everything stored at or below a session's staged-data path. */
async function stagedObjects(store: FsckStore, id: string): Promise<string[]> {
  const found: string[] = [];
  await store.driver
    .walk(DATA_ROOT, (info: FileInfo) => {
      if (!info.isDir && info.path.startsWith(stagedDataPath(id))) found.push(info.path);
      return undefined;
    })
    .catch(() => {});
  return found;
}

async function backdateSession(store: FsckStore, id: string): Promise<void> {
  for (const path of [stagedDataPath(id), ...(await stagedObjects(store, id))])
    await store.backdate(path, DAYS_AGO_2()).catch(() => {});
}

for (const backend of ['filesystem', 's3'] as const) {
  describe(`berth fsck on ${backend}`, () => {
    let store: FsckStore;
    let url: string;
    let replica: string;
    before(async () => {
      store = await startFsckStore(backend);
      url = store.replicas[0].url;
      replica = store.replicas[1].url;
    });
    after(() => store.close());

    it('a clean store with images, an index and a referrer is reported clean (exit 0)', async () => {
      const image = await pushImage(url, 'clean/app', 'v1');
      const other = await pushImage(url, 'clean/app', 'v2');
      const index = imageIndex([manifestDescriptor(image.manifest), manifestDescriptor(other.manifest)]);
      await pushManifest(url, 'clean/app', 'multi', index, OCI_INDEX);
      const signature = jsonBlob({ signed: true });
      await pushBlob(url, 'clean/app', signature.content);
      const referrer = imageManifest({
        config: signature.descriptor,
        layers: [],
        subject: manifestDescriptor(image.manifest),
      });
      await pushManifest(url, 'clean/app', 'sig', referrer);

      const { code, report } = await fsckJson(store);
      assert.equal(code, 0, JSON.stringify(report));
      assert.equal(report.clean, true);
      assert.deepEqual(report.broken, []);
      assert.equal(report.checked.repositories, 1, JSON.stringify(report.checked));
      assert.equal(report.checked.manifests, 4);
      assert.equal(report.checked.tags, 4);
      assert.equal(report.checked.referrers, 1, JSON.stringify(report.checked));
      assert.equal(report.checked.blobs, 4, 'one config shared, two layers, the signature');
      const text = await fsck(store);
      assert.equal(text.code, 0);
      assert.match(text.stdout, /^checked \d+ blobs .*: 0 broken, 0 leftovers\nclean\n$/);
    });

    it('finds a corrupted blob, a dangling tag and a manifest whose layer is gone; --repair quarantines them; the blob can be pushed again', async () => {
      const a = await pushKnownImage(url, 'broken/a', 'v1');
      const b = await pushKnownImage(url, 'broken/b', 'v1');
      const layerA = a.layer.digest as Digest;
      // A replica reads the blob first: on S3 it now remembers where its bytes are.
      assert.equal((await blobOf(replica, 'broken/a', layerA)).status, 200);
      await store.corrupt(blobDataPath(layerA), Buffer.from('flipped bits'));
      await store.driver.delete(blobDataPath(b.layer.digest as Digest));
      const nowhere = `sha256:${'0'.repeat(64)}`;
      await store.driver.putContent(
        tagPath('broken/a' as RepositoryName, 'dangling' as Tag),
        Buffer.from(nowhere),
      );

      const found = await fsckJson(store);
      assert.equal(found.code, 1);
      assert.equal(found.report.clean, false);
      const problems = found.report.broken.map(({ kind, item, problem }) => `${kind} ${item}: ${problem}`);
      assert.deepEqual(problems.sort(), [
        `blob ${layerA}: its bytes hash to sha256:${createHash('sha256').update('flipped bits').digest('hex')}`,
        `manifest broken/a@${a.digest}: references blob ${layerA}, whose bytes are corrupt`,
        `manifest broken/b@${b.digest}: references blob ${b.layer.digest}, which is missing`,
        `tag broken/a:dangling: points at ${nowhere}, which is not a manifest of broken/a`,
        `tag broken/a:v1: points at ${a.digest}, which is a broken manifest`,
        `tag broken/b:v1: points at ${b.digest}, which is a broken manifest`,
      ]);
      assert.ok(found.report.broken.every((finding) => finding.action === undefined));

      const repaired = await fsckJson(store, '--repair');
      assert.equal(repaired.code, 0, JSON.stringify(repaired.report));
      assert.equal(repaired.report.broken.length, 6);
      for (const finding of repaired.report.broken)
        assert.match(finding.action ?? '', /^quarantined/, finding.item);
      const run = (repaired.report.quarantine ?? '').split('/').pop() as string;
      const kept = await store.driver.getContent(quarantinePath(run, blobDataPath(layerA)));
      assert.equal(kept.toString(), 'flipped bits', 'the corrupt bytes are kept, not destroyed');
      const dangling = quarantinePath(run, tagPath('broken/a' as RepositoryName, 'dangling' as Tag));
      assert.equal((await store.driver.getContent(dangling)).toString(), nowhere);

      const again = await fsckJson(store);
      assert.equal(again.code, 0, JSON.stringify(again.report));
      assert.deepEqual(again.report.broken, []);

      for (const server of [url, replica]) {
        await request(server).head(`/v2/broken/a/blobs/${layerA}`).expect(404);
        await request(server).get('/v2/broken/a/manifests/v1').expect(404);
      }
      const config = (await blobOf(replica, 'broken/a', a.config.digest)).status;
      assert.equal(config, 200, 'what was sound stays');

      // The layer's own bytes again, through one replica; both serve them afterwards.
      await pushBlob(url, 'broken/a', a.layerContent);
      for (const server of [url, replica]) {
        const served = await blobOf(server, 'broken/a', layerA);
        assert.equal(served.status, 200);
        assert.equal(`sha256:${createHash('sha256').update(served.body).digest('hex')}`, layerA);
      }
      await pushManifest(url, 'broken/a', 'v1', a.manifest);
      assert.equal((await fsckJson(store)).code, 0);
    });

    it("sweeps leftovers older than the age; younger ones and an open session's are kept", async () => {
      const open = await patchedSession(url, 'left/open');
      const abandoned = await patchedSession(url, 'left/abandoned');
      const young = await patchedSession(url, 'left/young');
      for (const { id } of [abandoned, young])
        await store.driver.delete(
          uploadPath(`left/${id === young.id ? 'young' : 'abandoned'}` as RepositoryName, id),
        );
      await backdateSession(store, open.id);
      await backdateSession(store, abandoned.id);
      const expected = [stagedDataPath(abandoned.id)];
      if (store.s3) {
        // A chunk cut off by an outage, whose client then gave up: one multipart upload is left.
        const cut = await startUpload(url, 'left/cut');
        const faults = [
          store.s3.inject({ operation: 'UploadPart', status: 500, code: 'InternalError', times: 100 }),
          store.s3.inject({
            operation: 'AbortMultipartUpload',
            status: 500,
            code: 'InternalError',
            times: 100,
          }),
        ];
        const chunk = randomBlob(12 * MIB).content;
        await request(url)
          .patch(cut.location)
          .set('Content-Range', `0-${chunk.length - 1}`)
          .send(chunk)
          .expect(503);
        for (const undo of faults) undo();
        await request(url).delete(cut.location).expect(204);
        assert.equal((await store.s3.incompleteUploads()).filter((key) => key.endsWith(cut.id)).length, 1);
        await store.s3.backdate(`fsck${stagedDataPath(cut.id)}`, DAYS_AGO_2());
        expected.push(stagedDataPath(cut.id));
      } else {
        await store.writeRaw('/repositories/left/open/_uploads/.tmp-crashed', 'half a write');
        await store.backdate('/repositories/left/open/_uploads/.tmp-crashed', DAYS_AGO_2());
        await store.writeRaw('/repositories/left/open/_uploads/.tmp-writing', 'being written');
        expected.push('/repositories/left/open/_uploads/.tmp-crashed');
      }

      const found = await fsckJson(store);
      assert.equal(found.code, 1, 'leftovers make a store unclean');
      const listed = found.report.leftovers.map((leftover) => leftover.path);
      for (const path of listed)
        assert.ok(
          expected.some((prefix) => path.startsWith(prefix)),
          path,
        );
      for (const prefix of expected)
        assert.ok(
          listed.some((path) => path.startsWith(prefix)),
          prefix,
        );
      if (store.s3)
        assert.ok(found.report.leftovers.some((leftover) => leftover.kind === 'unfinished upload'));

      const swept = await fsckJson(store, '--repair');
      assert.equal(swept.code, 0, JSON.stringify(swept.report));
      assert.ok(swept.report.leftovers.every((leftover) => leftover.action === 'deleted'));
      const [first] = swept.report.leftovers;
      assert.deepEqual(Object.keys(first ?? {}), ['kind', 'path', 'size', 'modTime', 'action']);
      assert.ok(!Number.isNaN(Date.parse(first?.modTime ?? '')));
      assert.deepEqual(await stagedObjects(store, abandoned.id), []);
      assert.ok((await stagedObjects(store, young.id)).length > 0, 'younger leftovers stay');
      if (store.s3) {
        const uploads = await store.s3.incompleteUploads();
        assert.ok(!uploads.some((key) => key.endsWith(abandoned.id)), 'the abandoned upload is aborted');
        assert.ok(
          uploads.some((key) => key.endsWith(young.id)),
          'the young upload stays',
        );
      } else {
        const tempFiles = await store.driver.list('/repositories/left/open/_uploads');
        assert.deepEqual(tempFiles, [open.id], 'temp files are invisible to list, the session stays');
      }
      await request(url).put(`${open.location}?digest=${open.blob.descriptor.digest}`).expect(201);
      const served = await blobOf(replica, 'left/open', open.blob.descriptor.digest);
      assert.deepEqual(served.body, open.blob.content, 'the open session completes whole');
      assert.equal((await fsckJson(store)).code, 0);
    });

    it('runs with --repair while a replica takes pushes find nothing broken, and every push stays whole', async () => {
      let pushing = true;
      const pushed: Array<Awaited<ReturnType<typeof pushKnownImage>>> = [];
      const pushes = (async () => {
        try {
          for (let i = 0; i < 12; i++) pushed.push(await pushKnownImage(url, `busy/app${i % 3}`, `v${i}`));
        } finally {
          pushing = false;
        }
      })();
      const runs: Array<{ code: number; report: Report }> = [];
      while (pushing || runs.length < 2) runs.push(await fsckJson(store, '--repair', '--older-than', '0s'));
      await pushes;
      for (const run of runs) {
        assert.deepEqual(run.report.broken, [], 'nothing in flight looks broken');
        assert.equal(run.code, 0);
      }
      for (const image of pushed) {
        const name = `busy/app${pushed.indexOf(image) % 3}`;
        await request(replica).get(`/v2/${name}/manifests/${image.digest}`).expect(200);
        const layer = await blobOf(replica, name, image.layer.digest);
        assert.deepEqual(layer.body, image.layerContent);
      }
      assert.equal((await fsckJson(store)).code, 0);
    });
  });
}
