import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { sendChunked } from '../helpers/http.js';
import {
  DOCKER_LIST,
  DOCKER_MANIFEST,
  imageIndex,
  imageManifest,
  jsonBlob,
  manifestDescriptor,
  OCI_INDEX,
  OCI_MANIFEST,
  ociError,
  pushBlob,
  pushImage,
  pushManifest,
  randomBlob,
  sha256,
  sha512,
} from '../helpers/oci.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

describe('manifests', () => {
  let server: TestServer;
  const config = jsonBlob({ architecture: 'amd64', os: 'linux' });
  const layer = randomBlob(2048);
  before(async () => {
    server = await startTestServer();
    for (const name of ['m/app', 'm/other']) {
      await pushBlob(server.url, name, config.content);
      await pushBlob(server.url, name, layer.content);
    }
  });
  after(() => server.close());
  const put = (path: string, body: Buffer) =>
    request(server.url).put(path).set('Content-Type', OCI_MANIFEST).send(text(body));

  it('PUT by tag stores the exact bytes; GET by tag and by digest serve them with the pushed type', async () => {
    const body = imageManifest({ config: config.descriptor, layers: [layer.descriptor] });
    const put = await request(server.url)
      .put('/v2/m/app/manifests/v1')
      .set('Content-Type', OCI_MANIFEST)
      .send(text(body))
      .expect(201);
    const digest = sha256(body);
    assert.equal(put.headers['docker-content-digest'], digest);
    assert.equal(put.headers.location, `/v2/m/app/manifests/${digest}`);
    for (const reference of ['v1', digest]) {
      const res = await request(server.url)
        .get(`/v2/m/app/manifests/${reference}`)
        .buffer(true)
        .parse(textBody)
        .expect(200);
      assert.equal(res.body, body.toString());
      assert.equal(res.headers['content-type'], OCI_MANIFEST);
      assert.equal(res.headers['docker-content-digest'], digest);
      assert.equal(res.headers['content-length'], String(body.length));
      assert.equal(res.headers.etag, `"${digest}"`);
    }
    const head = await request(server.url).head('/v2/m/app/manifests/v1').expect(200);
    assert.equal(head.headers['content-length'], String(body.length));
    assert.equal(head.headers['content-type'], OCI_MANIFEST);
    assert.equal(head.headers['docker-content-digest'], digest);
  });

  it('GET with a matching If-None-Match is 304 without a body', async () => {
    const { digest } = await pushImage(server.url, 'm/etag', 'latest');
    const res = await request(server.url)
      .get('/v2/m/etag/manifests/latest')
      .set('If-None-Match', `"${digest}"`)
      .expect(304);
    assert.equal(res.text, '');
    await request(server.url)
      .get('/v2/m/etag/manifests/latest')
      .set('If-None-Match', '"sha256:other"')
      .expect(200);
  });

  it('PUT by digest checks the digest in the URL against the body', async () => {
    const body = imageManifest({
      config: config.descriptor,
      layers: [layer.descriptor],
      annotations: { n: 'digest' },
    });
    await pushManifest(server.url, 'm/app', sha256(body), body);
    const other = imageManifest({ config: config.descriptor, layers: [], annotations: { n: 'other' } });
    const res = await request(server.url)
      .put(`/v2/m/app/manifests/${sha256(body)}`)
      .set('Content-Type', OCI_MANIFEST)
      .send(text(other))
      .expect(400);
    assert.equal(ociError(res.body).code, 'DIGEST_INVALID');
    await request(server.url)
      .get(`/v2/m/app/manifests/${sha256(other)}`)
      .expect(404);
  });

  it('PUT by digest with tag parameters sets each tag and answers an OCI-Tag header per tag', async () => {
    const body = imageManifest({
      config: config.descriptor,
      layers: [layer.descriptor],
      annotations: { t: 'q' },
    });
    const digest = sha256(body);
    const query = 'tag=tp-v1&tag=tp-latest&tag=tp-v1';
    const tagged = await put(`/v2/m/app/manifests/${digest}?${query}`, body).expect(201);
    assert.equal(tagged.headers['docker-content-digest'], digest);
    // One header per tag; Node joins repeated headers with ", " (RFC 9110 list semantics).
    assert.equal(tagged.headers['oci-tag'], 'tp-v1, tp-latest');
    for (const tag of ['tp-v1', 'tp-latest']) {
      const got = await request(server.url).head(`/v2/m/app/manifests/${tag}`).expect(200);
      assert.equal(got.headers['docker-content-digest'], digest);
    }
    const plain = await put(`/v2/m/app/manifests/${digest}`, body).expect(201);
    assert.equal(plain.headers['oci-tag'], undefined);
  });

  it('tag parameters are all checked before anything is stored, and only go with a digest', async () => {
    const body = imageManifest({
      config: config.descriptor,
      layers: [layer.descriptor],
      annotations: { t: 'x' },
    });
    const digest = sha256(body);
    const invalid = await put(`/v2/m/app/manifests/${digest}?tag=tp-ok&tag=-bad`, body).expect(400);
    assert.equal(ociError(invalid.body).code, 'MANIFEST_INVALID');
    const byTag = await put('/v2/m/app/manifests/tp-main?tag=tp-other', body).expect(400);
    assert.equal(ociError(byTag.body).code, 'UNSUPPORTED');
    await request(server.url).get(`/v2/m/app/manifests/${digest}`).expect(404);
    for (const tag of ['tp-ok', 'tp-main', 'tp-other']) {
      await request(server.url).get(`/v2/m/app/manifests/${tag}`).expect(404);
    }
  });

  it('a manifest can be pushed and fetched by a sha512 digest', async () => {
    const body = imageManifest({
      config: config.descriptor,
      layers: [layer.descriptor],
      annotations: { n: '512' },
    });
    const digest = sha512(body);
    await pushManifest(server.url, 'm/app', digest, body);
    const res = await request(server.url).get(`/v2/m/app/manifests/${digest}`).expect(200);
    assert.equal(res.headers['docker-content-digest'], digest);
  });

  it('stores byte-for-byte, whitespace and key order included', async () => {
    const body = Buffer.from(
      `{\n   "schemaVersion" : 2,"mediaType":"${OCI_MANIFEST}",\n"layers":[],\t"config":${JSON.stringify(config.descriptor)}   }\n`,
    );
    const digest = await pushManifest(server.url, 'm/app', 'odd-bytes', body);
    assert.equal(digest, sha256(body));
    const res = await request(server.url)
      .get('/v2/m/app/manifests/odd-bytes')
      .buffer(true)
      .parse(textBody)
      .expect(200);
    assert.equal(res.body, body.toString());
  });

  it('accepts Docker schema 2 manifests and manifest lists, and OCI indexes', async () => {
    const docker = imageManifest({
      config: { ...config.descriptor, mediaType: 'application/vnd.docker.container.image.v1+json' },
      layers: [{ ...layer.descriptor, mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip' }],
      mediaType: DOCKER_MANIFEST,
    });
    await pushManifest(server.url, 'm/app', 'docker', docker, DOCKER_MANIFEST);
    const list = imageIndex(
      [{ ...manifestDescriptor(docker, DOCKER_MANIFEST), platform: { architecture: 'amd64', os: 'linux' } }],
      {
        mediaType: DOCKER_LIST,
      },
    );
    await pushManifest(server.url, 'm/app', 'list', list, DOCKER_LIST);
    const res = await request(server.url).get('/v2/m/app/manifests/list').expect(200);
    assert.equal(res.headers['content-type'], DOCKER_LIST);

    const oci = imageManifest({
      config: config.descriptor,
      layers: [layer.descriptor],
      annotations: { n: 'idx' },
    });
    await pushManifest(server.url, 'm/app', 'child', oci);
    const index = imageIndex([
      { ...manifestDescriptor(oci), platform: { architecture: 'arm64', os: 'linux' } },
    ]);
    await pushManifest(server.url, 'm/app', 'index', index, OCI_INDEX);
    const got = await request(server.url).get('/v2/m/app/manifests/index').expect(200);
    assert.equal(got.headers['content-type'], OCI_INDEX);
  });

  it('accepts an artifact manifest with artifactType and the empty config', async () => {
    const empty = jsonBlob({}, 'application/vnd.oci.empty.v1+json');
    await pushBlob(server.url, 'm/app', empty.content);
    const artifact = imageManifest({
      artifactType: 'application/vnd.example.thing',
      config: empty.descriptor,
      layers: [{ ...layer.descriptor, mediaType: 'application/vnd.example.thing.layer' }],
    });
    await pushManifest(server.url, 'm/app', 'artifact', artifact);
  });

  it('a manifest without mediaType is typed from Content-Type, or detected from its shape', async () => {
    const body = imageManifest({ config: config.descriptor, layers: [layer.descriptor], mediaType: null });
    await pushManifest(server.url, 'm/app', 'untyped', body, OCI_MANIFEST);
    const res = await request(server.url).get('/v2/m/app/manifests/untyped').expect(200);
    assert.equal(res.headers['content-type'], OCI_MANIFEST);
    const detected = imageManifest({
      config: config.descriptor,
      layers: [],
      mediaType: null,
      annotations: { d: '1' },
    });
    await pushManifest(server.url, 'm/app', 'detected', detected, 'application/json');
    const got = await request(server.url).get('/v2/m/app/manifests/detected').expect(200);
    assert.equal(got.headers['content-type'], OCI_MANIFEST);
  });

  it('rejects invalid manifests with 400 MANIFEST_INVALID', async () => {
    const cases: Array<[string, string | Buffer, string]> = [
      ['not json', 'this is not json', OCI_MANIFEST],
      ['array', '[1,2]', OCI_MANIFEST],
      [
        'schemaVersion 1',
        JSON.stringify({ schemaVersion: 1, name: 'x', tag: 'y', fsLayers: [] }),
        'application/json',
      ],
      [
        'wrong schemaVersion',
        JSON.stringify({ schemaVersion: 3, mediaType: OCI_MANIFEST, config: config.descriptor, layers: [] }),
        OCI_MANIFEST,
      ],
      ['no config', JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, layers: [] }), OCI_MANIFEST],
      [
        'no layers',
        JSON.stringify({ schemaVersion: 2, mediaType: OCI_MANIFEST, config: config.descriptor }),
        OCI_MANIFEST,
      ],
      [
        'bad digest',
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: { ...config.descriptor, digest: 'sha256:xyz' },
          layers: [],
        }),
        OCI_MANIFEST,
      ],
      [
        'negative size',
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: { ...config.descriptor, size: -1 },
          layers: [],
        }),
        OCI_MANIFEST,
      ],
      ['index without manifests', JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX }), OCI_INDEX],
      ['type mismatch', imageManifest({ config: config.descriptor, layers: [] }), OCI_INDEX],
      [
        'unknown mediaType',
        JSON.stringify({
          schemaVersion: 2,
          mediaType: 'application/x-what',
          config: config.descriptor,
          layers: [],
        }),
        'application/x-what',
      ],
      [
        'annotations not strings',
        JSON.stringify({
          schemaVersion: 2,
          mediaType: OCI_MANIFEST,
          config: config.descriptor,
          layers: [],
          annotations: { a: 1 },
        }),
        OCI_MANIFEST,
      ],
    ];
    for (const [label, body, type] of cases) {
      const res = await request(server.url)
        .put('/v2/m/app/manifests/bad')
        .set('Content-Type', type)
        .send(text(body));
      assert.equal(res.status, 400, label);
      assert.equal(ociError(res.body).code, 'MANIFEST_INVALID', label);
    }
    await request(server.url).get('/v2/m/app/manifests/bad').expect(404);
  });

  it('rejects references to blobs or child manifests missing from the repository', async () => {
    const missing = randomBlob(10);
    const body = imageManifest({ config: config.descriptor, layers: [missing.descriptor] });
    const res = await request(server.url)
      .put('/v2/m/app/manifests/broken')
      .set('Content-Type', OCI_MANIFEST)
      .send(text(body))
      .expect(400);
    const error = ociError(res.body);
    assert.equal(error.code, 'MANIFEST_BLOB_UNKNOWN');
    assert.deepEqual((error.detail as { missing: string[] }).missing, [missing.descriptor.digest]);

    const elsewhere = randomBlob(11);
    await pushBlob(server.url, 'm/other', elsewhere.content);
    const foreign = imageManifest({ config: config.descriptor, layers: [elsewhere.descriptor] });
    await request(server.url)
      .put('/v2/m/app/manifests/foreign')
      .set('Content-Type', OCI_MANIFEST)
      .send(text(foreign))
      .expect(400);

    const child = imageManifest({ config: config.descriptor, layers: [], annotations: { never: 'pushed' } });
    const index = imageIndex([manifestDescriptor(child)]);
    const idx = await request(server.url)
      .put('/v2/m/app/manifests/idx')
      .set('Content-Type', OCI_INDEX)
      .send(text(index))
      .expect(400);
    assert.equal(ociError(idx.body).code, 'MANIFEST_BLOB_UNKNOWN');
  });

  it('rejects a descriptor whose size disagrees with the stored blob', async () => {
    const body = imageManifest({
      config: config.descriptor,
      layers: [{ ...layer.descriptor, size: layer.descriptor.size + 1 }],
    });
    const res = await request(server.url)
      .put('/v2/m/app/manifests/size')
      .set('Content-Type', OCI_MANIFEST)
      .send(text(body))
      .expect(400);
    assert.equal(ociError(res.body).code, 'MANIFEST_INVALID');
  });

  it('non-distributable layers with urls (Docker foreign, OCI nondistributable) need not be in the registry', async () => {
    for (const mediaType of [
      'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
      'application/vnd.docker.image.rootfs.foreign.diff.tar',
      'application/vnd.oci.image.layer.nondistributable.v1.tar',
      'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
      'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
    ]) {
      const foreign = { ...randomBlob(5).descriptor, mediaType, urls: ['https://example.com/layer'] };
      const body = imageManifest({ config: config.descriptor, layers: [layer.descriptor, foreign] });
      await pushManifest(server.url, 'm/app', 'foreign-layer', body);
    }
  });

  it('urls on an ordinary layer do not excuse it from being in the repository', async () => {
    const elsewhere = { ...randomBlob(6).descriptor, urls: ['https://example.com/layer'] };
    const body = imageManifest({ config: config.descriptor, layers: [layer.descriptor, elsewhere] });
    const res = await put('/v2/m/app/manifests/urls-layer', body).expect(400);
    const error = ociError(res.body);
    assert.equal(error.code, 'MANIFEST_BLOB_UNKNOWN');
    assert.deepEqual((error.detail as { missing: string[] }).missing, [elsewhere.digest]);
  });

  it('refuses bodies over validation.manifests.maxsize with 413, declared or streamed', async () => {
    const small = await startTestServer({ config: { validation: { manifests: { maxsize: 1000 } } } });
    try {
      const big = Buffer.alloc(2000, 32);
      const declared = await request(small.url)
        .put('/v2/m/app/manifests/big')
        .set('Content-Type', OCI_MANIFEST)
        .send(text(big))
        .expect(413);
      assert.equal(ociError(declared.body).code, 'SIZE_INVALID');
      const streamed = await sendChunked(
        small.url,
        'PUT',
        '/v2/m/app/manifests/big',
        [big.subarray(0, 600), big.subarray(600)],
        {
          'Content-Type': OCI_MANIFEST,
        },
      );
      assert.equal(streamed.status, 413);
      assert.equal(ociError(JSON.parse(streamed.body.toString())).code, 'SIZE_INVALID');
      await request(small.url).get('/v2/m/app/manifests/big').expect(404);
    } finally {
      await small.close();
    }
    const defaults = await request(server.url)
      .put('/v2/m/app/manifests/huge')
      .set('Content-Type', OCI_MANIFEST)
      .send(text(Buffer.alloc(4 * 1024 * 1024 + 1, 32)))
      .expect(413);
    assert.equal(ociError(defaults.body).code, 'SIZE_INVALID');
  });

  it('a manifest just under 4 MiB is accepted', async () => {
    const annotations = { padding: 'x'.repeat(4 * 1024 * 1024 - 1000) };
    const body = imageManifest({ config: config.descriptor, layers: [layer.descriptor], annotations });
    assert.ok(body.length < 4 * 1024 * 1024);
    await pushManifest(server.url, 'm/app', 'large', body);
  });

  it('invalid tags and references are 400; unknown ones are 404 with the right code', async () => {
    const body = imageManifest({ config: config.descriptor, layers: [] });
    for (const tag of ['-bad', '.bad', 'a'.repeat(129), 'bad%2Ftag', 'bad%20tag']) {
      const res = await request(server.url)
        .put(`/v2/m/app/manifests/${tag}`)
        .set('Content-Type', OCI_MANIFEST)
        .send(text(body))
        .expect(400);
      assert.equal(ociError(res.body).code, 'MANIFEST_INVALID', tag);
    }
    const badDigest = await request(server.url).get('/v2/m/app/manifests/sha256:123').expect(400);
    assert.equal(ociError(badDigest.body).code, 'DIGEST_INVALID');
    const unknown = await request(server.url).get('/v2/m/app/manifests/nope').expect(404);
    assert.equal(ociError(unknown.body).code, 'MANIFEST_UNKNOWN');
    const unknownRepo = await request(server.url).get('/v2/m/nothing/manifests/latest').expect(404);
    assert.equal(ociError(unknownRepo.body).code, 'NAME_UNKNOWN');
    await request(server.url).head('/v2/m/app/manifests/nope').expect(404);
  });

  it('a manifest pushed to one repository is unknown in another', async () => {
    const { digest } = await pushImage(server.url, 'm/private', 'v1');
    await request(server.url).get(`/v2/m/app/manifests/${digest}`).expect(404);
  });

  it('moving a tag points it at the new manifest', async () => {
    const first = await pushImage(server.url, 'm/move', 'latest');
    const second = await pushImage(server.url, 'm/move', 'latest');
    const res = await request(server.url).get('/v2/m/move/manifests/latest').expect(200);
    assert.equal(res.headers['docker-content-digest'], second.digest);
    await request(server.url).get(`/v2/m/move/manifests/${first.digest}`).expect(200);
  });

  it('DELETE by tag removes only the tag', async () => {
    const { digest } = await pushImage(server.url, 'm/deltag', 'v1');
    await request(server.url).delete('/v2/m/deltag/manifests/v1').expect(202);
    const res = await request(server.url).get('/v2/m/deltag/manifests/v1').expect(404);
    assert.equal(ociError(res.body).code, 'MANIFEST_UNKNOWN');
    await request(server.url).get(`/v2/m/deltag/manifests/${digest}`).expect(200);
    await request(server.url).delete('/v2/m/deltag/manifests/v1').expect(404);
  });

  it('DELETE by digest removes the manifest and every tag pointing at it', async () => {
    const { manifest, digest } = await pushImage(server.url, 'm/deldigest', 'a');
    await pushManifest(server.url, 'm/deldigest', 'b', manifest);
    const keep = await pushImage(server.url, 'm/deldigest', 'c');
    await request(server.url).delete(`/v2/m/deldigest/manifests/${digest}`).expect(202);
    for (const reference of [digest, 'a', 'b']) {
      await request(server.url).get(`/v2/m/deldigest/manifests/${reference}`).expect(404);
    }
    const tags = await request(server.url).get('/v2/m/deldigest/tags/list').expect(200);
    assert.deepEqual(tags.body.tags, ['c']);
    await request(server.url).get(`/v2/m/deldigest/manifests/${keep.digest}`).expect(200);
    const again = await request(server.url).delete(`/v2/m/deldigest/manifests/${digest}`).expect(404);
    assert.equal(ociError(again.body).code, 'MANIFEST_UNKNOWN');
    const repo = await request(server.url).delete(`/v2/m/none/manifests/${digest}`).expect(404);
    assert.equal(ociError(repo.body).code, 'NAME_UNKNOWN');
  });

  it('DELETE of a manifest that a tagged index lists is 409 DENIED naming the index and its tags', async () => {
    const name = 'm/held';
    await pushBlob(server.url, name, config.content);
    await pushBlob(server.url, name, layer.content);
    const child = (platform: string) =>
      imageManifest({ config: config.descriptor, layers: [layer.descriptor], annotations: { platform } });
    const amd64 = child('amd64');
    const arm64 = child('arm64');
    for (const body of [amd64, arm64]) await pushManifest(server.url, name, sha256(body), body);
    const index = imageIndex([manifestDescriptor(amd64), manifestDescriptor(arm64)]);
    await pushManifest(server.url, name, 'multi', index, OCI_INDEX);
    await pushManifest(server.url, name, 'also', index, OCI_INDEX);

    const refused = await request(server.url)
      .delete(`/v2/${name}/manifests/${sha256(amd64)}`)
      .expect(409);
    const error = ociError(refused.body);
    assert.equal(error.code, 'DENIED');
    assert.deepEqual(error.detail, { indexes: [sha256(index)], tags: ['also', 'multi'] });
    await request(server.url)
      .get(`/v2/${name}/manifests/${sha256(amd64)}`)
      .expect(200);

    // Once no tag reaches the index, its children may go.
    for (const tag of ['multi', 'also'])
      await request(server.url).delete(`/v2/${name}/manifests/${tag}`).expect(202);
    await request(server.url)
      .delete(`/v2/${name}/manifests/${sha256(amd64)}`)
      .expect(202);
  });

  it('a manifest reached from a tag through nested indexes is held too; deleting from the top works', async () => {
    const name = 'm/nested';
    await pushBlob(server.url, name, config.content);
    const leaf = imageManifest({ config: config.descriptor, layers: [], annotations: { nested: 'leaf' } });
    await pushManifest(server.url, name, sha256(leaf), leaf);
    const inner = imageIndex([manifestDescriptor(leaf)]);
    await pushManifest(server.url, name, sha256(inner), inner, OCI_INDEX);
    const outer = imageIndex([manifestDescriptor(inner, OCI_INDEX)], { annotations: { level: 'outer' } });
    await pushManifest(server.url, name, 'top', outer, OCI_INDEX);

    const leafRefused = await request(server.url)
      .delete(`/v2/${name}/manifests/${sha256(leaf)}`)
      .expect(409);
    assert.deepEqual(ociError(leafRefused.body).detail, { indexes: [sha256(inner)], tags: ['top'] });
    const innerRefused = await request(server.url)
      .delete(`/v2/${name}/manifests/${sha256(inner)}`)
      .expect(409);
    assert.deepEqual(ociError(innerRefused.body).detail, { indexes: [sha256(outer)], tags: ['top'] });
    for (const body of [outer, inner, leaf]) {
      await request(server.url)
        .delete(`/v2/${name}/manifests/${sha256(body)}`)
        .expect(202);
    }
  });

  it('a deleted manifest can be pushed again', async () => {
    const { manifest, digest } = await pushImage(server.url, 'm/again', 'v1');
    await request(server.url).delete(`/v2/m/again/manifests/${digest}`).expect(202);
    await pushManifest(server.url, 'm/again', 'v1', manifest);
    await request(server.url).get('/v2/m/again/manifests/v1').expect(200);
  });
});

describe('manifests with storage.delete.enabled: false', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ config: { storage: { delete: { enabled: false } } } });
  });
  after(() => server.close());

  it('DELETE by tag is refused with 405 UNSUPPORTED and the tag stays', async () => {
    const { digest } = await pushImage(server.url, 'keep/tagged', 'v1');
    const res = await request(server.url).delete('/v2/keep/tagged/manifests/v1').expect(405);
    assert.equal(ociError(res.body).code, 'UNSUPPORTED');
    const got = await request(server.url).get('/v2/keep/tagged/manifests/v1').expect(200);
    assert.equal(got.headers['docker-content-digest'], digest);
  });

  it('DELETE by digest is refused with 405 UNSUPPORTED; the manifest and its tags stay', async () => {
    const { digest } = await pushImage(server.url, 'keep/digest', 'v1');
    const res = await request(server.url).delete(`/v2/keep/digest/manifests/${digest}`).expect(405);
    assert.equal(ociError(res.body).code, 'UNSUPPORTED');
    await request(server.url).get(`/v2/keep/digest/manifests/${digest}`).expect(200);
    await request(server.url).get('/v2/keep/digest/manifests/v1').expect(200);
  });
});

/** superagent JSON-encodes Buffers sent with a +json type; manifests go as their exact text. */
function text(body: Buffer | string): string {
  return typeof body === 'string' ? body : body.toString('utf8');
}

function textBody(res: request.Response, done: (err: Error | null, body: string) => void): void {
  const stream = res as unknown as NodeJS.ReadableStream;
  let text = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    text += chunk;
  });
  stream.on('end', () => done(null, text));
}
