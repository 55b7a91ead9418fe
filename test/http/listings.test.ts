import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { basic, usersSection, writePolicy } from '../helpers/auth.js';
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
  sha256,
} from '../helpers/oci.js';
import { ON_FILESYSTEM, startTestServer, type TestServer } from '../helpers/server.js';
import { removeDir, tempDir } from '../helpers/tmp.js';

describe('tags list', () => {
  let server: TestServer;
  const tags = ['v1', 'v10', 'v2', 'Latest', 'a', '_under', 'b.c', 'b-c'];
  before(async () => {
    server = await startTestServer();
    const { manifest } = await pushImage(server.url, 't/app', 'seed');
    for (const tag of tags) await pushManifest(server.url, 't/app', tag, manifest);
  });
  after(() => server.close());

  const sorted = () => [...tags, 'seed'].sort((a, b) => (a < b ? -1 : 1));

  it('lists every tag in ASCII order', async () => {
    const res = await request(server.url).get('/v2/t/app/tags/list').expect(200);
    assert.deepEqual(res.body, { name: 't/app', tags: sorted() });
    assert.equal(res.headers.link, undefined);
  });

  it('n limits the page and Link points at the next one; last is exclusive', async () => {
    const all = sorted();
    const first = await request(server.url).get('/v2/t/app/tags/list?n=4').expect(200);
    assert.deepEqual(first.body.tags, all.slice(0, 4));
    assert.equal(
      first.headers.link,
      `</v2/t/app/tags/list?n=4&last=${encodeURIComponent(all[3] as string)}>; rel="next"`,
    );
    const collected = [...first.body.tags];
    let link = first.headers.link as string | undefined;
    while (link) {
      const next = /^<([^>]+)>/.exec(link)?.[1] as string;
      const page = await request(server.url).get(next).expect(200);
      collected.push(...page.body.tags);
      link = page.headers.link;
    }
    assert.deepEqual(collected, all);
    const after = await request(server.url).get(`/v2/t/app/tags/list?last=${all[2]}`).expect(200);
    assert.deepEqual(after.body.tags, all.slice(3));
    const window = await request(server.url).get(`/v2/t/app/tags/list?n=2&last=${all[2]}`).expect(200);
    assert.deepEqual(window.body.tags, all.slice(3, 5));
  });

  it('n=0 gives an empty list and no Link; n past the end gives everything', async () => {
    const zero = await request(server.url).get('/v2/t/app/tags/list?n=0').expect(200);
    assert.deepEqual(zero.body.tags, []);
    assert.equal(zero.headers.link, undefined);
    const big = await request(server.url).get('/v2/t/app/tags/list?n=1000').expect(200);
    assert.deepEqual(big.body.tags, sorted());
    assert.equal(big.headers.link, undefined);
    const exact = await request(server.url).get(`/v2/t/app/tags/list?n=${sorted().length}`).expect(200);
    assert.equal(exact.headers.link, undefined);
  });

  it('a last past every tag gives an empty list', async () => {
    const res = await request(server.url).get('/v2/t/app/tags/list?last=zzz').expect(200);
    assert.deepEqual(res.body.tags, []);
  });

  it('a bad n is 400; an unknown repository is 404 NAME_UNKNOWN', async () => {
    for (const n of ['-1', 'abc', '1.5']) {
      const res = await request(server.url).get(`/v2/t/app/tags/list?n=${n}`).expect(400);
      assert.equal(ociError(res.body).code, 'UNSUPPORTED');
    }
    const res = await request(server.url).get('/v2/t/unknown/tags/list').expect(404);
    assert.equal(ociError(res.body).code, 'NAME_UNKNOWN');
  });

  it('a repository with blobs but no tags lists an empty array', async () => {
    await pushBlob(server.url, 't/untagged', randomBlob(10).content);
    const res = await request(server.url).get('/v2/t/untagged/tags/list').expect(200);
    assert.deepEqual(res.body, { name: 't/untagged', tags: [] });
  });
});

describe('catalog', () => {
  let server: TestServer;
  const names = ['zeta', 'alpha/one', 'alpha/one/nested', 'alpha-two', 'beta/x/y/z'];
  before(async () => {
    server = await startTestServer();
    for (const name of names) await pushBlob(server.url, name, randomBlob(8).content);
    // An upload alone does not make a repository.
    await request(server.url).post('/v2/only/uploading/blobs/uploads/').expect(202);
  });
  after(() => server.close());

  it('lists repositories (nested ones too) in ASCII order', async () => {
    const res = await request(server.url).get('/v2/_catalog').expect(200);
    assert.deepEqual(
      res.body.repositories,
      [...names].sort((a, b) => (a < b ? -1 : 1)),
    );
  });

  it('paginates with n, last and Link', async () => {
    const all = [...names].sort((a, b) => (a < b ? -1 : 1));
    const first = await request(server.url).get('/v2/_catalog?n=2').expect(200);
    assert.deepEqual(first.body.repositories, all.slice(0, 2));
    assert.equal(
      first.headers.link,
      `</v2/_catalog?n=2&last=${encodeURIComponent(all[1] as string)}>; rel="next"`,
    );
    const second = await request(server.url)
      .get(`/v2/_catalog?n=2&last=${encodeURIComponent(all[1] as string)}`)
      .expect(200);
    assert.deepEqual(second.body.repositories, all.slice(2, 4));
    const zero = await request(server.url).get('/v2/_catalog?n=0').expect(200);
    assert.deepEqual(zero.body.repositories, []);
  });

  it('an empty registry has an empty catalog', async () => {
    const empty = await startTestServer();
    try {
      const res = await request(empty.url).get('/v2/_catalog').expect(200);
      assert.deepEqual(res.body, { repositories: [] });
    } finally {
      await empty.close();
    }
  });
});

describe('catalog order and paging', () => {
  let server: TestServer;
  // The catalog index escapes `.` and `/`: these sort next to each other in ASCII.
  const names = ['a0', 'a/b', 'a.b', 'a-b', 'a', 'a_b', 'a.a/x', 'a/b/c', 'ab', 'a--b', 'a.b.c', 'b'];
  const ascii = [...names].sort((a, b) => (a < b ? -1 : 1));
  before(async () => {
    server = await startTestServer();
    for (const name of names) await pushBlob(server.url, name, randomBlob(8).content);
  });
  after(() => server.close());

  async function follow(first: string): Promise<string[]> {
    const collected: string[] = [];
    let next: string | undefined = first;
    while (next) {
      const page = await request(server.url).get(next).expect(200);
      collected.push(...page.body.repositories);
      const link: string = page.headers.link ?? '';
      next = /^<([^>]+)>/.exec(link)?.[1];
    }
    return collected;
  }

  it('lists names that differ in separators in ASCII order', async () => {
    const res = await request(server.url).get('/v2/_catalog').expect(200);
    assert.deepEqual(res.body.repositories, ascii);
    assert.deepEqual(ascii.slice(0, 8), ['a', 'a--b', 'a-b', 'a.a/x', 'a.b', 'a.b.c', 'a/b', 'a/b/c']);
  });

  it('pages of every size add up to the whole catalog', async () => {
    for (const n of [1, 2, 3, 5, names.length - 1]) {
      assert.deepEqual(await follow(`/v2/_catalog?n=${n}`), ascii, `n=${n}`);
    }
    const exact = await request(server.url).get(`/v2/_catalog?n=${names.length}`).expect(200);
    assert.deepEqual(exact.body.repositories, ascii);
    assert.equal(exact.headers.link, undefined);
  });

  it('a last that is no repository name starts where it sorts', async () => {
    const after = (last: string) => ascii.filter((name) => name > last);
    for (const last of ['a.', 'a/', 'a.b/', 'A', '~', 'a%', 'a'.repeat(600)]) {
      const res = await request(server.url)
        .get(`/v2/_catalog?last=${encodeURIComponent(last)}`)
        .expect(200);
      assert.deepEqual(res.body.repositories, after(last), `last=${last}`);
    }
  });
});

describe('catalog: the longest names, and repositories emptied by deletes', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.close());

  it('255-character names made mostly of separators are pushed, listed and paged', async () => {
    // On the filesystem, where a name's catalog entry is one file name of at most 255 bytes.
    // (s3rver, the S3 of the tests, keeps each key as files under such names plus a suffix,
    // so it cannot hold these keys at all; S3 itself takes keys of up to 1024 bytes.)
    const server = await startTestServer({ config: { storage: ON_FILESYSTEM } });
    try {
      await longNames(server);
    } finally {
      await server.close();
    }
  });

  async function longNames(server: TestServer): Promise<void> {
    const names = [`a${'/b'.repeat(127)}`, `a${'.b'.repeat(127)}`, `a${'-9'.repeat(127)}`];
    for (const name of names) await pushImage(server.url, name, 'v1');
    const all = await request(server.url).get('/v2/_catalog').expect(200);
    assert.deepEqual(
      all.body.repositories.filter((name: string) => names.includes(name)),
      [...names].sort(),
    );
    const second = await request(server.url)
      .get(`/v2/_catalog?n=1&last=${encodeURIComponent(names[2] as string)}`)
      .expect(200);
    assert.deepEqual(second.body.repositories, [names[1]]);
    for (const name of names) {
      const tags = await request(server.url).get(`/v2/${name}/tags/list`).expect(200);
      assert.deepEqual(tags.body.tags, ['v1']);
    }
  }

  it('a repository stays in the catalog with an empty tags list until repositories can be deleted', async () => {
    const { digest, config, layer } = await pushImage(server.url, 'gone/app', 'v1');
    await request(server.url).delete(`/v2/gone/app/manifests/${digest}`).expect(202);
    for (const blob of [config, layer]) {
      await request(server.url).delete(`/v2/gone/app/blobs/${blob.digest}`).expect(202);
    }
    await request(server.url).get('/v2/gone/app/manifests/v1').expect(404);
    const catalog = await request(server.url).get('/v2/_catalog').expect(200);
    assert.ok(catalog.body.repositories.includes('gone/app'));
    const tags = await request(server.url).get('/v2/gone/app/tags/list').expect(200);
    assert.deepEqual(tags.body, { name: 'gone/app', tags: [] });
  });
});

describe('catalog filtered by what the caller may pull', () => {
  let server: TestServer;
  let dir: string;
  const alice = basic('alice', 'alice-password');
  const bob = basic('bob', 'bob-password');
  const names = ['a/x', 'team/a', 'b/y', 'c/z', 'team/b', 'team/c', 'z/last'];
  before(async () => {
    dir = await tempDir('berth-catalog-auth-');
    const policy = await writePolicy(
      dir,
      `${await usersSection(['alice', 'bob'])}repositories:
  - match: "team/**"
    users: { alice: [pull, push], bob: [pull] }
  - match: "**"
    users: { alice: [pull, push] }
`,
    );
    server = await startTestServer({ config: { auth: { mode: 'basic', policy } } });
    for (const name of names) {
      const blob = randomBlob(8).content;
      await request(server.directUrl)
        .post(`/v2/${name}/blobs/uploads/?digest=${sha256(blob)}`)
        .set('Authorization', alice)
        .set('Content-Type', 'application/octet-stream')
        .send(blob)
        .expect(201);
    }
  });
  after(async () => {
    await server.close();
    await removeDir(dir);
  });

  it('pages hold n visible names and Link follows them past hidden ones', async () => {
    const first = await request(server.directUrl)
      .get('/v2/_catalog?n=1')
      .set('Authorization', bob)
      .expect(200);
    assert.deepEqual(first.body.repositories, ['team/a']);
    assert.equal(first.headers.link, '</v2/_catalog?n=1&last=team%2Fa>; rel="next"');
    const second = await request(server.directUrl)
      .get('/v2/_catalog?n=2&last=team%2Fa')
      .set('Authorization', bob)
      .expect(200);
    assert.deepEqual(second.body.repositories, ['team/b', 'team/c']);
    assert.equal(second.headers.link, undefined, "z/last is not bob's, so nothing remains for him");
    const all = await request(server.directUrl).get('/v2/_catalog').set('Authorization', alice).expect(200);
    assert.deepEqual(all.body.repositories, [...names].sort());
  });
});

describe('referrers', () => {
  let server: TestServer;
  let subject: { digest: string; size: number; mediaType: string };
  const empty = jsonBlob({}, 'application/vnd.oci.empty.v1+json');
  before(async () => {
    server = await startTestServer();
    const image = await pushImage(server.url, 'r/app', 'v1');
    subject = manifestDescriptor(image.manifest);
    await pushBlob(server.url, 'r/app', empty.content);
  });
  after(() => server.close());

  async function pushReferrer(
    artifactType: string | undefined,
    annotations: Record<string, string>,
    configType?: string,
  ) {
    const payload = randomBlob(32, 'application/vnd.example.payload');
    await pushBlob(server.url, 'r/app', payload.content);
    const config = configType ? jsonBlob({ kind: configType }, configType) : empty;
    if (configType) await pushBlob(server.url, 'r/app', config.content);
    const body = imageManifest({
      config: config.descriptor,
      layers: [payload.descriptor],
      subject,
      annotations,
      ...(artifactType ? { artifactType } : {}),
    });
    const res = await request(server.url)
      .put(`/v2/r/app/manifests/${sha256(body)}`)
      .set('Content-Type', 'application/vnd.oci.image.manifest.v1+json')
      .send(body.toString())
      .expect(201);
    assert.equal(res.headers['oci-subject'], subject.digest);
    return { digest: sha256(body), size: body.length };
  }

  it('lists referrers as an image index with artifactType (config type as fallback) and annotations', async () => {
    const sbom = await pushReferrer('application/vnd.example.sbom', { 'org.example.kind': 'sbom' });
    const sig = await pushReferrer(
      undefined,
      { 'org.example.kind': 'sig' },
      'application/vnd.example.signature.config',
    );
    const res = await request(server.url).get(`/v2/r/app/referrers/${subject.digest}`).expect(200);
    assert.equal(res.headers['content-type'], OCI_INDEX);
    assert.equal(res.headers['oci-filters-applied'], undefined);
    const body = JSON.parse(res.text);
    assert.equal(body.schemaVersion, 2);
    assert.equal(body.mediaType, OCI_INDEX);
    const byDigest = new Map(body.manifests.map((d: { digest: string }) => [d.digest, d]));
    assert.deepEqual(byDigest.get(sbom.digest), {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      digest: sbom.digest,
      size: sbom.size,
      artifactType: 'application/vnd.example.sbom',
      annotations: { 'org.example.kind': 'sbom' },
    });
    assert.equal(
      (byDigest.get(sig.digest) as { artifactType: string }).artifactType,
      'application/vnd.example.signature.config',
    );
    assert.equal(body.manifests.length, 2);
  });

  it('filters by artifactType and says so in OCI-Filters-Applied', async () => {
    const res = await request(server.url)
      .get(`/v2/r/app/referrers/${subject.digest}?artifactType=application/vnd.example.sbom`)
      .expect(200);
    assert.equal(res.headers['oci-filters-applied'], 'artifactType');
    const body = JSON.parse(res.text);
    assert.equal(body.manifests.length, 1);
    assert.equal(body.manifests[0].artifactType, 'application/vnd.example.sbom');
  });

  it('a subject with no referrers, or not pushed yet, gives an empty index, not 404', async () => {
    const unknown = sha256('not pushed yet');
    for (const path of [`/v2/r/app/referrers/${unknown}`, `/v2/r/nothing-here/referrers/${unknown}`]) {
      const res = await request(server.url).get(path).expect(200);
      assert.deepEqual(JSON.parse(res.text), { schemaVersion: 2, mediaType: OCI_INDEX, manifests: [] });
    }
  });

  it('accepts a referrer before its subject exists, and lists an index referrer without artifactType', async () => {
    const future = sha256('future subject');
    const child = await pushImage(server.url, 'r/app', 'child');
    const index = imageIndex([manifestDescriptor(child.manifest)], {
      subject: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: future, size: 100 },
      annotations: { a: 'b' },
    });
    const digest = await pushManifest(server.url, 'r/app', sha256(index), index, OCI_INDEX);
    const res = await request(server.url).get(`/v2/r/app/referrers/${future}`).expect(200);
    assert.deepEqual(JSON.parse(res.text).manifests, [
      { mediaType: OCI_INDEX, digest, size: index.length, annotations: { a: 'b' } },
    ]);
  });

  it('deleting a referrer removes it from the listing', async () => {
    const doomed = await pushReferrer('application/vnd.example.doomed', {});
    await request(server.url).delete(`/v2/r/app/manifests/${doomed.digest}`).expect(202);
    const res = await request(server.url)
      .get(`/v2/r/app/referrers/${subject.digest}?artifactType=application/vnd.example.doomed`)
      .expect(200);
    assert.deepEqual(JSON.parse(res.text).manifests, []);
  });

  it('an invalid subject digest is 400 DIGEST_INVALID', async () => {
    const res = await request(server.url).get('/v2/r/app/referrers/sha256:nothex').expect(400);
    assert.equal(ociError(res.body).code, 'DIGEST_INVALID');
  });
});
