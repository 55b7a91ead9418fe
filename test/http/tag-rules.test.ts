/**
 * Immutable tags (`tags.immutable`) and reserved names: an immutable tag is created once and
 * never moved or deleted; a tag named like any of Berth's own storage names is just a tag.
 * Runs on S3 as well under `npm run test:s3`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { ociError, pushImage, pushManifest } from '../helpers/oci.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const RULES = [
  { repository: 'prod/**', tags: ['v*'] },
  { repository: 'locked', tags: '*' },
];

describe('immutable tags', () => {
  let server: TestServer;
  let two: TestServer | undefined;
  let first: Awaited<ReturnType<typeof pushImage>>;
  before(async () => {
    server = await startTestServer({ config: { tags: { immutable: RULES } } });
    first = await pushImage(server.url, 'prod/app', 'v1');
  });
  after(async () => {
    // Both stopped before either removes the shared root (and, on S3, releases the store).
    await two?.stop();
    await server.stop();
    await two?.close();
    await server.close();
  });

  it('refuses to move an immutable tag with 403 DENIED naming the rule', async () => {
    const other = await pushImage(server.url, 'prod/app', 'scratch');
    const res = await request(server.url)
      .put('/v2/prod/app/manifests/v1')
      .set('Content-Type', 'application/vnd.oci.image.manifest.v1+json')
      .send(other.manifest.toString('utf8'))
      .expect(403);
    const error = ociError(res.body);
    assert.equal(error.code, 'DENIED');
    assert.match(
      error.message,
      /tag v1 of prod\/app is immutable \(tags\.immutable rule 1: repository prod\/\*\*, tags v\*\)/,
    );
    const head = await request(server.url).head('/v2/prod/app/manifests/v1').expect(200);
    assert.equal(head.headers['docker-content-digest'], first.digest);
  });

  it('accepts the same digest again, and records nothing for it', async () => {
    await pushManifest(server.url, 'prod/app', 'v1', first.manifest);
    const history = await request(server.url).get('/v2/prod/app/_berth/tags/v1/history').expect(200);
    assert.equal(history.body.history.length, 1);
  });

  it('refuses deleting the tag, its manifest by digest, and a rollback', async () => {
    const byTag = await request(server.url).delete('/v2/prod/app/manifests/v1').expect(403);
    assert.match(ociError(byTag.body).message, /immutable/);
    const byDigest = await request(server.url).delete(`/v2/prod/app/manifests/${first.digest}`).expect(403);
    assert.match(ociError(byDigest.body).message, /immutable/);
    const other = await pushImage(server.url, 'prod/app', 'other');
    const rollback = await request(server.url)
      .post('/v2/prod/app/_berth/tags/v1/rollback')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ digest: other.digest }))
      .expect(403);
    assert.equal(ociError(rollback.body).code, 'DENIED');
    await request(server.url).head('/v2/prod/app/manifests/v1').expect(200);
  });

  it('a delete by digest refused for an immutable tag removes none of its other tags', async () => {
    // `0-mutable` sorts before `v1`: it would be removed first if tags were checked one by one.
    await pushManifest(server.url, 'prod/app', '0-mutable', first.manifest);
    await request(server.url).delete(`/v2/prod/app/manifests/${first.digest}`).expect(403);
    await request(server.url).head('/v2/prod/app/manifests/0-mutable').expect(200);
    await request(server.url).head('/v2/prod/app/manifests/v1').expect(200);
  });

  it('leaves tags and repositories outside the rules mutable', async () => {
    for (const [name, tag] of [
      ['prod/app', 'latest'],
      ['prod', 'v1'],
      ['dev/app', 'v1'],
    ] as const) {
      await pushImage(server.url, name, tag);
      await pushImage(server.url, name, tag);
      await request(server.url).delete(`/v2/${name}/manifests/${tag}`).expect(202);
    }
  });

  it('two servers creating one immutable tag at once: one wins, the other is refused', async () => {
    const other = await startTestServer({ root: server.root, config: { tags: { immutable: RULES } } });
    two = other;
    const a = await pushImage(server.url, 'locked', 'seed-a');
    const b = await pushImage(other.url, 'locked', 'seed-b');
    const results = await Promise.all([
      putManifest(server.url, 'locked', 'once', a.manifest),
      putManifest(other.url, 'locked', 'once', b.manifest),
    ]);
    assert.deepEqual(results.map((res) => res.status).sort(), [201, 403]);
    const winner = results.find((res) => res.status === 201)?.headers['docker-content-digest'];
    const head = await request(other.url).head('/v2/locked/manifests/once').expect(200);
    assert.equal(head.headers['docker-content-digest'], winner);
  });
});

function putManifest(url: string, name: string, tag: string, body: Buffer) {
  return request(url)
    .put(`/v2/${name}/manifests/${tag}`)
    .set('Content-Type', 'application/vnd.oci.image.manifest.v1+json')
    .send(body.toString('utf8'));
}

describe('tags named like Berth storage names', () => {
  let server: TestServer;
  // Every fixed name in the layout, the filesystem driver's prefixes made tag-like, and names
  // a later feature might want.
  const OWN = ['_layers', '_manifests', '_uploads', '_berth', 'tags', 'history', 'revisions', 'referrers'];
  // And the fixed words of API paths, which a route for Berth's own endpoints must not misread.
  const API = ['manifests', 'blobs', 'uploads', 'referrers', 'list', 'rollback', 'repository'];
  const TAGS = [
    ...new Set([...OWN, ...API, '_tmp-x', '_lock-v1', '_history', '_tombstones', 'sha256', 'data']),
  ];
  let base: Awaited<ReturnType<typeof pushImage>>;
  before(async () => {
    server = await startTestServer();
    base = await pushImage(server.url, 'names/app', 'v1');
    for (const tag of TAGS) await pushManifest(server.url, 'names/app', tag, base.manifest);
  });
  after(() => server.close());

  it('lists, resolves and keeps a history for each of them', async () => {
    const list = await request(server.url).get('/v2/names/app/tags/list').expect(200);
    assert.deepEqual(
      list.body.tags,
      [...TAGS, 'v1'].sort((a, b) => (a < b ? -1 : 1)),
    );
    for (const tag of TAGS) {
      const head = await request(server.url).head(`/v2/names/app/manifests/${tag}`).expect(200);
      assert.equal(head.headers['docker-content-digest'], base.digest);
      const history = await request(server.url).get(`/v2/names/app/_berth/tags/${tag}/history`);
      assert.equal(history.status, 200, `${tag}: ${history.text}`);
      assert.equal(history.body.history.length, 1, tag);
    }
  });

  it('deleting them disturbs nothing else: the image, its layers and other tags stay', async () => {
    for (const tag of TAGS) await request(server.url).delete(`/v2/names/app/manifests/${tag}`).expect(202);
    await request(server.url).get('/v2/names/app/manifests/v1').expect(200);
    await request(server.url).get(`/v2/names/app/manifests/${base.digest}`).expect(200);
    await request(server.url).head(`/v2/names/app/blobs/${base.layer.digest}`).expect(200);
    const list = await request(server.url).get('/v2/names/app/tags/list').expect(200);
    assert.deepEqual(list.body.tags, ['v1']);
    const history = await request(server.url).get('/v2/names/app/_berth/tags/v1/history').expect(200);
    assert.equal(history.body.history.length, 1);
  });
});
