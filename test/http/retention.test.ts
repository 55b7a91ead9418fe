/**
 * Retention over a running server: pulls recorded by tag, tags deleted by rule (never
 * immutable ones, recorded in their history), a push racing a delete not lost, history
 * expired, untagged manifests listed for GC, and a dry run that changes nothing. Runs on S3
 * as well under `npm run test:s3`.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { tagPath } from '../../src/blobstore/layout.js';
import { parseRetentionRules } from '../../src/config/retention-rules.js';
import type { RepositoryName, Tag } from '../../src/registry/names.js';
import { readPullTimes } from '../../src/registry/pull-records.js';
import { applyRetention, countsOf, type RetentionOptions } from '../../src/retention/run.js';
import { createGate, faultyDriver } from '../helpers/faulty-driver.js';
import {
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
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

const DAY = 86_400_000;

async function tagsOf(server: TestServer, name: string): Promise<string[]> {
  const res = await request(server.url).get(`/v2/${name}/tags/list`);
  return res.status === 200 ? ((res.body.tags as string[] | null) ?? []) : [];
}

async function historyOf(server: TestServer, name: string, tag: string) {
  const res = await request(server.url).get(`/v2/${name}/_berth/tags/${tag}/history`).expect(200);
  return res.body.history as Array<{ digest: string; action: string; actor: string }>;
}

/** Pushes images to `tags` one after another, each moved in a later millisecond than the last. */
async function pushInOrder(server: TestServer, name: string, tags: string[]): Promise<Map<string, string>> {
  const digests = new Map<string, string>();
  for (const tag of tags) {
    const at = Date.now();
    while (Date.now() === at) await new Promise((resolve) => setImmediate(resolve));
    digests.set(tag, (await pushImage(server.url, name, tag)).digest);
  }
  return digests;
}

function run(server: TestServer, rules: unknown[], overrides: Partial<RetentionOptions> = {}) {
  return applyRetention({
    driver: server.driver,
    rules: parseRetentionRules(rules),
    immutable: server.config.tags.immutable,
    ...overrides,
  });
}

describe('retention', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      config: {
        storage: { cache: { ttl: '0s' } },
        tags: { immutable: [{ repository: 'ret/immutable', tags: 'v*' }] },
      },
    });
  });
  after(() => server.close());

  it('a GET or HEAD by tag records a pull; a GET by digest does not', async () => {
    const { digest } = await pushImage(server.url, 'ret/pulls', 'a');
    await pushImage(server.url, 'ret/pulls', 'b');
    await pushImage(server.url, 'ret/pulls', 'c');
    await request(server.url).get('/v2/ret/pulls/manifests/a').expect(200);
    await request(server.url).head('/v2/ret/pulls/manifests/b').expect(200);
    await request(server.url).get(`/v2/ret/pulls/manifests/${digest}`).expect(200);
    await server.registry.pulls.settled();
    const pulled = await readPullTimes(server.driver, 'ret/pulls' as RepositoryName);
    assert.deepEqual([...pulled.keys()].sort(), ['a', 'b']);
  });

  it('keeps the newest N and the tags matching a pattern, deletes the rest and records why', async () => {
    await pushInOrder(server, 'ret/newest', ['v1', 'old1', 'old2', 'new1', 'new2']);
    const report = await run(server, [{ repository: 'ret/newest', keep: { newest: 2, tags: ['v*'] } }]);
    assert.deepEqual(await tagsOf(server, 'ret/newest'), ['new1', 'new2', 'v1']);
    assert.deepEqual(
      report.items.map((item) => [item.kind, item.item, item.reason]),
      [
        ['tag', 'old1', 'rule 1 (ret/newest): not among the 2 newest, matches none of v*'],
        ['tag', 'old2', 'rule 1 (ret/newest): not among the 2 newest, matches none of v*'],
      ],
    );
    await request(server.url).get('/v2/ret/newest/manifests/old1').expect(404);
    const [newest] = await historyOf(server, 'ret/newest', 'old1');
    assert.equal(newest?.action, 'retention');
    assert.equal(newest?.actor, 'retention');
  });

  it('keeps tags pulled within the period', async () => {
    await pushInOrder(server, 'ret/pulled', ['used', 'unused']);
    await request(server.url).get('/v2/ret/pulled/manifests/used').expect(200);
    await server.registry.pulls.settled();
    await run(server, [{ repository: 'ret/pulled', keep: { pulledwithin: '1h' } }]);
    assert.deepEqual(await tagsOf(server, 'ret/pulled'), ['used']);
    await run(server, [{ repository: 'ret/pulled', keep: { pulledwithin: '1h' } }], {
      now: () => Date.now() + DAY,
    });
    assert.deepEqual(await tagsOf(server, 'ret/pulled'), [], 'a day later the pull is too old');
  });

  it('never deletes an immutable tag; the first matching rule applies; unmatched repositories are left alone', async () => {
    await pushInOrder(server, 'ret/immutable', ['v1', 'dev']);
    await pushInOrder(server, 'ret/other', ['dev']);
    const report = await run(server, [
      { repository: 'ret/immutable', keep: { tags: ['none'] } },
      { repository: 'ret/o*', keep: { tags: ['dev'] } },
      { repository: 'ret/other', keep: { tags: ['none'] } },
    ]);
    assert.deepEqual(await tagsOf(server, 'ret/immutable'), ['v1']);
    assert.deepEqual(await tagsOf(server, 'ret/other'), ['dev'], 'rule 2 applies, not rule 3');
    assert.ok(report.items.every((item) => item.repository === 'ret/immutable'));
    assert.ok((await tagsOf(server, 'ret/pulls')).length > 0, 'no rule for ret/pulls');
  });

  it('a dry run reports the same and changes nothing', async () => {
    await pushInOrder(server, 'ret/dry', ['a', 'b', 'b']);
    const rules = [{ repository: 'ret/dry', keep: { newest: 1 }, history: '1d' }];
    const dry = await run(server, rules, { dryRun: true, now: () => Date.now() + 2 * DAY });
    assert.equal(dry.dryRun, true);
    assert.deepEqual(countsOf(dry), { tag: 1, history: 2, manifest: 0 });
    assert.deepEqual(await tagsOf(server, 'ret/dry'), ['a', 'b']);
    assert.equal((await historyOf(server, 'ret/dry', 'b')).length, 2);
  });

  it('expires history older than the rule says, but never the newest entry of an existing tag', async () => {
    await pushInOrder(server, 'ret/history', ['kept', 'kept', 'kept', 'gone']);
    await request(server.url).delete('/v2/ret/history/manifests/gone').expect(202);
    const report = await run(server, [{ repository: 'ret/history', history: '1d' }], {
      now: () => Date.now() + 2 * DAY,
    });
    assert.deepEqual(
      report.items.map((item) => [item.kind, item.item, item.reason]),
      [
        ['history', 'gone (2 entries)', 'older than 1d'],
        ['history', 'kept (2 entries)', 'older than 1d'],
      ],
    );
    assert.deepEqual(
      (await historyOf(server, 'ret/history', 'kept')).map((entry) => entry.action),
      ['push'],
    );
    await request(server.url).get('/v2/ret/history/_berth/tags/gone/history').expect(404);
    await request(server.url).get('/v2/ret/history/manifests/kept').expect(200);
  });

  it('lists old untagged manifests for GC, but not index children, referrers or manifests history names', async () => {
    const name = 'ret/untagged';
    const first = (await pushImage(server.url, name, 'app')).digest;
    await pushImage(server.url, name, 'app'); // `first` is now untagged, named by history
    const config = jsonBlob({ architecture: 'arm64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } });
    const layer = randomBlob(512);
    await pushBlob(server.url, name, config.content);
    await pushBlob(server.url, name, layer.content);
    const child = imageManifest({ config: config.descriptor, layers: [layer.descriptor] });
    const childDigest = await pushManifest(server.url, name, manifestDescriptor(child).digest, child);
    const index = imageIndex([manifestDescriptor(child)]);
    const indexDigest = await pushManifest(server.url, name, 'multi', index, OCI_INDEX);
    const signature = imageManifest({
      config: config.descriptor,
      layers: [layer.descriptor],
      subject: manifestDescriptor(index, OCI_INDEX),
    });
    const signatureDigest = await pushManifest(
      server.url,
      name,
      manifestDescriptor(signature).digest,
      signature,
    );
    const loose = imageManifest({ config: config.descriptor, layers: [], annotations: { loose: 'yes' } });
    const looseDigest = await pushManifest(server.url, name, manifestDescriptor(loose).digest, loose);

    const later = () => Date.now() + 30 * DAY;
    const young = await run(server, [{ repository: name, untagged: '60d' }], { now: later });
    assert.deepEqual(countsOf(young).manifest, 0, 'nothing is older than 60 days');
    const report = await run(server, [{ repository: name, untagged: '14d' }], { now: later });
    const listed = report.items.filter((item) => item.kind === 'manifest').map((item) => item.item);
    assert.deepEqual(listed, [looseDigest]);
    assert.match(report.items[0]?.reason ?? '', /goes in the next GC run/);
    assert.ok(![first, childDigest, indexDigest, signatureDigest].some((d) => listed.includes(d)));

    const withHistory = await run(server, [{ repository: name, untagged: '14d', history: '1d' }], {
      now: later,
    });
    const goes = withHistory.items.filter((item) => item.kind === 'manifest').map((item) => item.item);
    assert.deepEqual(goes, [first, looseDigest].sort(), 'once its history expires, the old image goes');
    await request(server.url).get(`/v2/${name}/manifests/${looseDigest}`).expect(200);
  });

  it('a push that moves a tag between the decision and the delete wins: the tag stays where it pushed', async () => {
    const name = 'ret/race';
    await pushInOrder(server, name, ['moving']);
    const driver = faultyDriver(server.driver);
    const gate = createGate();
    driver.inject({
      operation: 'delete',
      path: (path) => path === tagPath(name as RepositoryName, 'moving' as Tag),
      delay: gate.wait,
      times: 1,
    });
    const running = run(server, [{ repository: name, keep: { tags: ['none'] } }], { driver });
    await gate.reached;
    const pushed = (await pushImage(server.url, name, 'moving')).digest;
    gate.open();
    const report = await running;
    assert.equal(report.raced, 1);
    assert.deepEqual(countsOf(report), { tag: 0, history: 0, manifest: 0 });
    const res = await request(server.url).get(`/v2/${name}/manifests/moving`).expect(200);
    assert.equal(res.headers['docker-content-digest'], pushed);
    const [newest] = await historyOf(server, name, 'moving');
    assert.deepEqual([newest?.action, newest?.digest], ['rollback', pushed]);
  });

  it('a push that moves a tag before the delete is checked leaves it alone', async () => {
    const name = 'ret/race-early';
    await pushInOrder(server, name, ['moving']);
    const driver = faultyDriver(server.driver);
    const gate = createGate();
    driver.inject({
      operation: 'stat',
      path: (path) => path === tagPath(name as RepositoryName, 'moving' as Tag),
      delay: gate.wait,
      times: 1,
    });
    const running = run(server, [{ repository: name, keep: { tags: ['none'] } }], { driver });
    await gate.reached;
    const pushed = (await pushImage(server.url, name, 'moving')).digest;
    gate.open();
    const report = await running;
    assert.equal(report.raced, 1);
    const res = await request(server.url).get(`/v2/${name}/manifests/moving`).expect(200);
    assert.equal(res.headers['docker-content-digest'], pushed);
    assert.ok((await historyOf(server, name, 'moving')).every((entry) => entry.action === 'push'));
  });
});

describe('retention on a schedule (retention.interval)', () => {
  it('a server applies the rules by itself and counts the run in /metrics', async () => {
    const server = await startTestServer({
      config: {
        retention: { interval: '500ms', rules: [{ repository: 'sched/**', keep: { newest: 1 } }] },
        storage: { cache: { ttl: '0s' } },
      },
    });
    try {
      await pushInOrder(server, 'sched/app', ['old', 'new']);
      await waitFor(async () => (await tagsOf(server, 'sched/app')).join() === 'new', 30_000);
      await waitFor(async () => {
        const text = (await request(server.url).get('/metrics')).text;
        return /berth_retention_tags_deleted_total 1\b/.test(text);
      }, 10_000);
      const text = (await request(server.url).get('/metrics')).text;
      assert.match(text, /berth_retention_runs_total\{outcome="completed"\} [1-9]/);
      assert.match(text, /berth_retention_history_expired_total 0\b/);
      assert.ok(server.logs.some((line) => line.includes('"msg":"retention finished"')));
    } finally {
      await server.close();
    }
  });
});
