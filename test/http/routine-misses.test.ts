import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { basic, quickHash, writePolicy } from '../helpers/auth.js';
import { startChallengeProxy } from '../helpers/challenge-proxy.js';
import { imageManifest, jsonBlob, pushManifest, randomBlob } from '../helpers/oci.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { removeDir, tempDir } from '../helpers/tmp.js';

const PASSWORDS = { alice: 'alice-password', bob: 'bob-password' };

/** A Berth in `mode` whose policy gives every user a namespace of their own. */
async function startOwnNamespaces(
  mode: 'token' | 'basic',
): Promise<{ server: TestServer; close(): Promise<void> }> {
  const dir = await tempDir('berth-misses-');
  const policy = await writePolicy(
    dir,
    `users:
  alice: { password: "${await quickHash(PASSWORDS.alice)}" }
  bob: { password: "${await quickHash(PASSWORDS.bob)}" }
repositories:
  - match: "\${user}/**"
    owner: [pull, push, delete]
`,
  );
  const token = mode === 'token' ? { token: { signingkey: join(dir, 'key.pem') } } : {};
  const server = await startTestServer({ config: { auth: { mode, policy, ...token } } });
  return {
    server,
    async close() {
      await server.close();
      await removeDir(dir);
    },
  };
}

/**
 * A push as docker makes it: ping, ask whether each blob is there (it is not), upload it,
 * try a mount from a repository that lacks the blob, ask whether the tag exists, push the
 * manifest. `authorization` goes on every request but the ping, as docker does in basic mode.
 */
async function dockerStylePush(url: string, name: string, authorization?: string): Promise<void> {
  const authorized = <T extends request.Test>(req: T): T =>
    authorization ? (req.set('Authorization', authorization) as T) : req;
  await request(url).get('/v2/');
  const config = jsonBlob({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: [] } });
  const layer = randomBlob(1000);
  for (const blob of [layer, config]) {
    const digest = blob.descriptor.digest;
    await authorized(request(url).head(`/v2/${name}/blobs/${digest}`)).expect(404);
    const mount = await authorized(
      request(url).post(`/v2/${name}/blobs/uploads/?mount=${digest}&from=${name}-base`),
    ).expect(202);
    await authorized(request(url).put(`${mount.headers.location}?digest=${digest}`))
      .set('Content-Type', 'application/octet-stream')
      .send(blob.content)
      .expect(201);
  }
  await authorized(request(url).head(`/v2/${name}/manifests/v1`)).expect(404);
  const manifest = imageManifest({ config: config.descriptor, layers: [layer.descriptor] });
  if (!authorization) {
    await pushManifest(url, name, 'v1', manifest);
    return;
  }
  await request(url)
    .put(`/v2/${name}/manifests/v1`)
    .set('Authorization', authorization)
    .set('Content-Type', 'application/vnd.oci.image.manifest.v1+json')
    .send(manifest.toString('utf8'))
    .expect(201);
}

/** The sum of every sample of `metric` whose labels include `labels`. */
async function metricTotal(server: TestServer, metric: string, labels: string): Promise<number> {
  const text = (await request(server.directUrl).get('/metrics').expect(200)).text;
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${metric}{`) && line.includes(labels))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}

const STORAGE_COUNT = 'berth_storage_operation_duration_seconds_count';
const AUTH_EVENTS = 'berth_auth_events_total';

describe('routine misses are not errors: token auth', () => {
  let server: TestServer;
  let close: () => Promise<void>;
  before(async () => {
    ({ server, close } = await startOwnNamespaces('token'));
  });
  after(() => close());

  it('a permitted push counts no storage error and no access_denied; a real denial still counts', async () => {
    const alice = await startChallengeProxy(server.directUrl, 'alice', PASSWORDS.alice);
    try {
      await dockerStylePush(alice.url, 'alice/app');
    } finally {
      await alice.close();
    }
    assert.equal(await metricTotal(server, STORAGE_COUNT, 'outcome="error"'), 0);
    assert.ok((await metricTotal(server, STORAGE_COUNT, 'outcome="not_found"')) > 0);
    assert.equal(await metricTotal(server, AUTH_EVENTS, 'event="access_denied"'), 0);

    const bob = await startChallengeProxy(server.directUrl, 'bob', PASSWORDS.bob);
    try {
      await request(bob.url).post('/v2/alice/app/blobs/uploads/').expect(401);
    } finally {
      await bob.close();
    }
    assert.equal(await metricTotal(server, AUTH_EVENTS, 'event="access_denied"'), 1);
  });
});

describe('routine misses are not errors: basic auth', () => {
  let server: TestServer;
  let close: () => Promise<void>;
  before(async () => {
    ({ server, close } = await startOwnNamespaces('basic'));
  });
  after(() => close());

  it('the challenge to a request without credentials is not a denial; a refused user is', async () => {
    await dockerStylePush(server.directUrl, 'alice/app', basic('alice', PASSWORDS.alice));
    assert.equal(await metricTotal(server, STORAGE_COUNT, 'outcome="error"'), 0);
    assert.equal(await metricTotal(server, AUTH_EVENTS, 'event="access_denied"'), 0);

    await request(server.directUrl)
      .post('/v2/alice/app/blobs/uploads/')
      .set('Authorization', basic('bob', PASSWORDS.bob))
      .expect(403);
    assert.equal(await metricTotal(server, AUTH_EVENTS, 'event="access_denied"'), 1);
  });
});
