/**
 * Tags as versions over HTTP: every move of a tag is in its history (newest first, paged),
 * a rollback moves it back and is a move of its own, and a delete is recorded too. Runs on
 * S3 as well under `npm run test:s3`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { ociError, pushImage, pushManifest } from '../helpers/oci.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/** The actor of unauthenticated test requests; the auth run sends them as its admin. */
const ACTOR = process.env.BERTH_TEST_AUTH === 'token' ? 'conformance' : 'anonymous';

interface Entry {
  id: string;
  digest: string;
  action: string;
  time: string;
  actor: string;
  address: string;
}

async function historyOf(url: string, name: string, tag: string, query = ''): Promise<Entry[]> {
  const res = await request(url).get(`/v2/${name}/_berth/tags/${tag}/history${query}`).expect(200);
  assert.equal(res.body.name, name);
  assert.equal(res.body.tag, tag);
  return res.body.history as Entry[];
}

function rollback(url: string, name: string, tag: string, body: unknown) {
  return request(url)
    .post(`/v2/${name}/_berth/tags/${tag}/rollback`)
    .set('Content-Type', 'application/json')
    .send(JSON.stringify(body));
}

describe('tag history', () => {
  let server: TestServer;
  let first: string;
  let second: string;
  before(async () => {
    server = await startTestServer();
    first = (await pushImage(server.url, 'h/app', 'v1')).digest;
    second = (await pushImage(server.url, 'h/app', 'v1')).digest;
  });
  after(() => server.close());

  it('records each push with digest, time, actor and address, newest first', async () => {
    const history = await historyOf(server.url, 'h/app', 'v1');
    assert.deepEqual(
      history.map((entry) => [entry.action, entry.digest]),
      [
        ['push', second],
        ['push', first],
      ],
    );
    for (const entry of history) {
      assert.equal(entry.actor, ACTOR);
      assert.match(entry.address, /127\.0\.0\.1/);
      assert.ok(Math.abs(Date.parse(entry.time) - Date.now()) < 600_000, entry.time);
      assert.match(entry.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    }
  });

  it('a push that leaves the tag where it is adds nothing', async () => {
    const res = await request(server.url)
      .get('/v2/h/app/manifests/v1')
      .buffer(true)
      .parse(keepText)
      .expect(200);
    await pushManifest(server.url, 'h/app', 'v1', Buffer.from(res.body as string));
    assert.equal((await historyOf(server.url, 'h/app', 'v1')).length, 2);
  });

  it('pages with n and last, with a Link header to the next page', async () => {
    const res = await request(server.url).get('/v2/h/app/_berth/tags/v1/history?n=1').expect(200);
    assert.equal(res.body.history.length, 1);
    assert.equal(res.body.history[0].digest, second);
    const link = /^<([^>]+)>; rel="next"$/.exec(res.headers.link ?? '');
    assert.ok(link, `Link: ${res.headers.link}`);
    const next = await request(server.url)
      .get(link[1] as string)
      .expect(200);
    assert.deepEqual(
      next.body.history.map((entry: Entry) => entry.digest),
      [first],
    );
    assert.equal(next.headers.link, undefined);
  });

  it('answers 404 for a tag without history, NAME_UNKNOWN for an unknown repository', async () => {
    const tag = await request(server.url).get('/v2/h/app/_berth/tags/nope/history').expect(404);
    assert.equal(ociError(tag.body).code, 'MANIFEST_UNKNOWN');
    const repo = await request(server.url).get('/v2/h/none/_berth/tags/v1/history').expect(404);
    assert.equal(ociError(repo.body).code, 'NAME_UNKNOWN');
  });

  it('rolls back by steps and by digest, each a rollback entry', async () => {
    const back = await rollback(server.url, 'h/app', 'v1', { steps: 1 }).expect(200);
    assert.deepEqual(back.body, { name: 'h/app', tag: 'v1', digest: first });
    const head = await request(server.url).head('/v2/h/app/manifests/v1').expect(200);
    assert.equal(head.headers['docker-content-digest'], first);

    await rollback(server.url, 'h/app', 'v1', { digest: second }).expect(200);
    const history = await historyOf(server.url, 'h/app', 'v1');
    assert.deepEqual(
      history.map((entry) => [entry.action, entry.digest]),
      [
        ['rollback', second],
        ['rollback', first],
        ['push', second],
        ['push', first],
      ],
    );
    // Two steps back from `rollback second` is where the first rollback left it.
    const twice = await rollback(server.url, 'h/app', 'v1', { steps: 2 }).expect(200);
    assert.equal(twice.body.digest, second);
  });

  it('refuses a rollback to a manifest that does not exist, or past the history', async () => {
    const missing = `sha256:${'1'.repeat(64)}`;
    const unknown = await rollback(server.url, 'h/app', 'v1', { digest: missing }).expect(404);
    assert.equal(ociError(unknown.body).code, 'MANIFEST_UNKNOWN');
    const past = await rollback(server.url, 'h/app', 'v1', { steps: 99 }).expect(404);
    assert.equal(ociError(past.body).code, 'MANIFEST_UNKNOWN');
    const before = (await historyOf(server.url, 'h/app', 'v1')).length;
    for (const body of [{}, { steps: 0 }, { steps: 1, digest: missing }, { steps: 'x' }, 'not json']) {
      const res = await rollback(server.url, 'h/app', 'v1', body).expect(400);
      assert.match(ociError(res.body).message, /invalid rollback request/);
    }
    assert.equal((await historyOf(server.url, 'h/app', 'v1')).length, before, 'refusals record nothing');
  });

  it('a deleted tag keeps its history, with the delete as its newest entry', async () => {
    const { digest } = await pushImage(server.url, 'h/app', 'gone');
    await request(server.url).delete('/v2/h/app/manifests/gone').expect(202);
    await request(server.url).get('/v2/h/app/manifests/gone').expect(404);
    const history = await historyOf(server.url, 'h/app', 'gone');
    assert.deepEqual(
      history.map((entry) => [entry.action, entry.digest]),
      [
        ['delete', digest],
        ['push', digest],
      ],
    );
    // One step back is "deleted": nothing to roll back to.
    const res = await rollback(server.url, 'h/app', 'gone', { steps: 1 }).expect(200);
    assert.equal(res.body.digest, digest);
    const deleted = await rollback(server.url, 'h/app', 'gone', { steps: 1 }).expect(404);
    assert.match(ociError(deleted.body).message, /deleted/);
  });

  it('deleting a manifest by digest records a delete for each tag that pointed at it', async () => {
    const { digest, manifest } = await pushImage(server.url, 'h/bydigest', 'a');
    await pushManifest(server.url, 'h/bydigest', 'b', manifest);
    await request(server.url).delete(`/v2/h/bydigest/manifests/${digest}`).expect(202);
    for (const tag of ['a', 'b']) {
      const [newest] = await historyOf(server.url, 'h/bydigest', tag);
      assert.deepEqual([newest?.action, newest?.digest], ['delete', digest]);
    }
  });
});

describe('tag history across two servers on one store', () => {
  let one: TestServer;
  let two: TestServer;
  before(async () => {
    one = await startTestServer();
    two = await startTestServer({ root: one.root });
  });
  after(async () => {
    await two.stop();
    await one.stop();
    await two.close();
    await one.close();
  });

  it('concurrent pushes of one tag: one final value, every move in the history', async () => {
    const rounds = 5;
    for (let round = 0; round < rounds; round++) {
      const tag = `race${round}`;
      const [a, b] = await Promise.all([
        pushImage(one.url, 'h/race', tag),
        pushImage(two.url, 'h/race', tag),
      ]);
      const history = await historyOf(two.url, 'h/race', tag);
      assert.deepEqual(history.map((entry) => entry.digest).sort(), [a.digest, b.digest].sort());
      const head = await request(one.url).head(`/v2/h/race/manifests/${tag}`).expect(200);
      assert.ok([a.digest, b.digest].includes(head.headers['docker-content-digest'] as string));
    }
  });
});

function keepText(res: request.Response, done: (err: Error | null, body: string) => void): void {
  let text = '';
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    text += chunk;
  });
  res.on('end', () => done(null, text));
}
