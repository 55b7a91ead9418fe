import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { hashRobotSecret } from '../../src/auth/secrets.js';
import {
  accessOf,
  basic,
  challengeParams,
  claims,
  handMadeJwt,
  quickHash,
  rsaKeyPair,
  signingKeyOf,
  signRs256,
  token,
  tokenRequest,
  writePolicy,
} from '../helpers/auth.js';
import { startChallengeProxy } from '../helpers/challenge-proxy.js';
import { ociError, pushImage } from '../helpers/oci.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { removeDir, tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const PASSWORDS = { alice: 'alice-password', bob: 'bob-password', root: 'root-password' };
const ROBOT_SECRET = 'robot-secret-0123456789-0123456789-abcdefghij';

async function policyText(alicePassword = PASSWORDS.alice): Promise<string> {
  return `
users:
  alice: { password: "${await quickHash(alicePassword)}" }
  bob: { password: "${await quickHash(PASSWORDS.bob)}" }
  root: { password: "${await quickHash(PASSWORDS.root)}", admin: true }
teams:
  dev: [bob]
robots:
  ci: { secret: "${hashRobotSecret(ROBOT_SECRET)}", scopes: ["repository:ci/*:pull,push"] }
  retired: { secret: "${hashRobotSecret(ROBOT_SECRET)}", scopes: ["repository:ci/*:pull"], expires: "2020-01-01T00:00:00Z" }
repositories:
  - match: "public/**"
    anonymous: [pull]
    authenticated: [pull]
    users: { alice: [pull, push, delete] }
  - match: "team-a/**"
    teams: { dev: [pull, push] }
  - match: "\${user}/**"
    owner: [pull, push, delete]
`;
}

/** A Berth with token auth over the test policy, in a temp directory of its own. */
async function startTokenServer(
  auth: { token?: Record<string, unknown>; loginlimit?: Record<string, unknown> } = {},
  http: Record<string, unknown> = {},
): Promise<{ server: TestServer; dir: string; policy: string }> {
  const dir = await tempDir('berth-auth-');
  const policy = await writePolicy(dir, await policyText());
  const server = await startTestServer({
    config: {
      http,
      auth: {
        mode: 'token',
        policy,
        token: { signingkey: join(dir, 'key.pem'), ...auth.token },
        ...(auth.loginlimit ? { loginlimit: auth.loginlimit } : {}),
      },
    },
  });
  return { server, dir, policy };
}

/** Stops a server of startTokenServer and removes its directory. */
async function closeTokenServer(server: TestServer, dir: string): Promise<void> {
  await server.close();
  await removeDir(dir);
}

describe('token auth with the built-in token server', () => {
  let server: TestServer;
  let dir: string;
  const keyFile = () => join(dir, 'key.pem');
  const v2 = (path: string) => `/v2/${path}`;

  before(async () => {
    // RS256 so the hostile-token cases can include HS256 keyed with an RSA public key.
    ({ server, dir } = await startTokenServer({ token: { algorithm: 'RS256' } }));
    // Content the tests read: pushed by the owners through a challenge-following client.
    for (const [user, repository] of [
      ['alice', 'public/app'],
      ['bob', 'bob/secret'],
      ['alice', 'alice/tools'],
    ] as const) {
      const client = await startChallengeProxy(server.directUrl, user, PASSWORDS[user]);
      await pushImage(client.url, repository, 'v1');
      await client.close();
    }
  });
  after(() => closeTokenServer(server, dir));

  it('GET /v2/ without a token is a 401 challenge naming the realm and service', async () => {
    const res = await request(server.directUrl).get('/v2/').expect(401);
    assert.equal(ociError(res.body).code, 'UNAUTHORIZED');
    assert.equal(
      res.headers['www-authenticate'],
      `Bearer realm="${server.directUrl}/auth/token",service="berth"`,
    );
    const anonymous = await token(server.directUrl, []);
    await request(server.directUrl).get('/v2/').set('Authorization', `Bearer ${anonymous}`).expect(200);
  });

  it('an anonymous token pulls a public repository', async () => {
    const pull = await token(server.directUrl, ['repository:public/app:pull,push']);
    assert.deepEqual(accessOf(pull), [{ type: 'repository', name: 'public/app', actions: ['pull'] }]);
    const res = await request(server.directUrl)
      .get(v2('public/app/manifests/v1'))
      .set('Authorization', `Bearer ${pull}`)
      .expect(200);
    assert.ok(res.headers['docker-content-digest']);
  });

  it('a private repository challenges with its scope and refuses an anonymous token', async () => {
    const bare = await request(server.directUrl).get(v2('bob/secret/manifests/v1')).expect(401);
    assert.deepEqual(challengeParams(bare.headers['www-authenticate']), {
      realm: `${server.directUrl}/auth/token`,
      service: 'berth',
      scope: 'repository:bob/secret:pull',
    });
    const anonymous = await token(server.directUrl, ['repository:bob/secret:pull']);
    assert.deepEqual(accessOf(anonymous), []);
    const refused = await request(server.directUrl)
      .get(v2('bob/secret/manifests/v1'))
      .set('Authorization', `Bearer ${anonymous}`)
      .expect(401);
    assert.equal(challengeParams(refused.headers['www-authenticate']).error, 'insufficient_scope');
    const owner = await token(server.directUrl, ['repository:bob/secret:pull'], ['bob', PASSWORDS.bob]);
    await request(server.directUrl)
      .get(v2('bob/secret/manifests/v1'))
      .set('Authorization', `Bearer ${owner}`)
      .expect(200);
  });

  it('a pull-only token cannot push: 401 insufficient_scope asking for pull,push', async () => {
    const bobs = await token(server.directUrl, ['repository:public/app:pull,push'], ['bob', PASSWORDS.bob]);
    assert.deepEqual(accessOf(bobs), [{ type: 'repository', name: 'public/app', actions: ['pull'] }]);
    const res = await request(server.directUrl)
      .post(v2('public/app/blobs/uploads/'))
      .set('Authorization', `Bearer ${bobs}`)
      .expect(401);
    assert.equal(ociError(res.body).code, 'UNAUTHORIZED');
    const params = challengeParams(res.headers['www-authenticate']);
    assert.equal(params.error, 'insufficient_scope');
    assert.equal(params.scope, 'repository:public/app:pull,push');
    const deleting = await request(server.directUrl)
      .delete(v2('public/app/manifests/v1'))
      .set('Authorization', `Bearer ${bobs}`)
      .expect(401);
    assert.equal(challengeParams(deleting.headers['www-authenticate']).scope, 'repository:public/app:delete');
  });

  it('teams and per-user namespaces grant what the policy says, and nothing else', async () => {
    const bobs = await token(
      server.directUrl,
      ['repository:team-a/x:pull,push,delete', 'repository:bob/new:*', 'repository:alice/tools:pull'],
      ['bob', PASSWORDS.bob],
    );
    assert.deepEqual(accessOf(bobs), [
      { type: 'repository', name: 'team-a/x', actions: ['pull', 'push'] },
      { type: 'repository', name: 'bob/new', actions: ['pull', 'push', 'delete'] },
    ]);
  });

  it('forged, expired, wrong-audience, wrong-issuer, alg none and HS256-with-the-public-key tokens are refused', async () => {
    const real = await signingKeyOf(keyFile());
    const access = [{ type: 'repository', name: 'bob/secret', actions: ['pull'] }];
    const now = Math.floor(Date.now() / 1000);
    const attacker = rsaKeyPair();
    const hostile: Record<string, string> = {
      'forged (another key, same kid)': signRs256(claims({ access }), attacker.privateKey, real.kid),
      expired: signRs256(
        claims({ access, iat: now - 900, nbf: now - 900, exp: now - 120 }),
        real.privateKey,
        real.kid,
      ),
      'not yet valid': signRs256(
        claims({ access, nbf: now + 600, exp: now + 900 }),
        real.privateKey,
        real.kid,
      ),
      'wrong audience': signRs256(claims({ access, aud: 'another-registry' }), real.privateKey, real.kid),
      'wrong issuer': signRs256(claims({ access, iss: 'someone-else' }), real.privateKey, real.kid),
      'no expiry': signRs256(withoutExpiry(claims({ access })), real.privateKey, real.kid),
      'unknown kid': signRs256(claims({ access }), real.privateKey, 'not-a-key-id'),
      'alg none': handMadeJwt({ alg: 'none', typ: 'JWT' }, claims({ access })),
      'HS256 keyed with the public key': handMadeJwt(
        { alg: 'HS256', typ: 'JWT', kid: real.kid },
        claims({ access }),
        real.publicPem,
      ),
      'tampered payload': (() => {
        const [header, , signature] = signRs256(claims({ access: [] }), real.privateKey, real.kid).split('.');
        const payload = Buffer.from(JSON.stringify(claims({ access }))).toString('base64url');
        return `${header}.${payload}.${signature}`;
      })(),
      garbage: 'not.a.jwt',
    };
    for (const [name, bad] of Object.entries(hostile)) {
      const res = await request(server.directUrl)
        .get(v2('bob/secret/manifests/v1'))
        .set('Authorization', `Bearer ${bad}`);
      assert.equal(res.status, 401, name);
      assert.equal(challengeParams(res.headers['www-authenticate']).error, 'invalid_token', name);
    }
    // The same claims, properly signed, are accepted: the refusals above are about the attack.
    const genuine = signRs256(claims({ access }), real.privateKey, real.kid);
    await request(server.directUrl)
      .get(v2('bob/secret/manifests/v1'))
      .set('Authorization', `Bearer ${genuine}`)
      .expect(200);
  });

  it('a robot gets what its scopes allow, nothing outside them; an expired robot cannot log in', async () => {
    const robot: [string, string] = ['robot$ci', ROBOT_SECRET];
    const granted = await token(
      server.directUrl,
      ['repository:ci/app:pull,push', 'repository:bob/secret:pull'],
      robot,
    );
    assert.deepEqual(accessOf(granted), [{ type: 'repository', name: 'ci/app', actions: ['pull', 'push'] }]);
    const client = await startChallengeProxy(server.directUrl, ...robot);
    try {
      await pushImage(client.url, 'ci/app', 'build-1');
      const outside = await request(client.url).get(v2('bob/secret/manifests/v1')).expect(401);
      assert.equal(challengeParams(outside.headers['www-authenticate']).error, 'insufficient_scope');
      await request(client.url).post(v2('ci/deeper/path/blobs/uploads/')).expect(401);
    } finally {
      await client.close();
    }
    await tokenRequest(server.directUrl, ['repository:ci/app:pull'], ['robot$retired', ROBOT_SECRET]).expect(
      401,
    );
    await tokenRequest(server.directUrl, ['repository:ci/app:pull'], ['robot$ci', 'wrong-secret']).expect(
      401,
    );
  });

  it('the catalog needs a token; admins see everything, others what they may pull', async () => {
    const bare = await request(server.directUrl).get('/v2/_catalog').expect(401);
    assert.equal(challengeParams(bare.headers['www-authenticate']).scope, 'registry:catalog:*');
    const list = async (credentials?: [string, string]) => {
      const catalogToken = await token(server.directUrl, ['registry:catalog:*'], credentials);
      const res = await request(server.directUrl)
        .get('/v2/_catalog')
        .set('Authorization', `Bearer ${catalogToken}`)
        .expect(200);
      return res.body.repositories as string[];
    };
    assert.deepEqual(await list(['root', PASSWORDS.root]), [
      'alice/tools',
      'bob/secret',
      'ci/app',
      'public/app',
    ]);
    assert.deepEqual(await list(['alice', PASSWORDS.alice]), ['alice/tools', 'public/app']);
    assert.deepEqual(await list(), ['public/app']);
  });

  it('a cross-repository mount from a repository the caller may not pull starts a plain upload', async () => {
    const bobs = await request(server.directUrl)
      .get(v2('bob/secret/manifests/v1'))
      .set(
        'Authorization',
        `Bearer ${await token(server.directUrl, ['repository:bob/secret:pull'], ['bob', PASSWORDS.bob])}`,
      )
      .expect(200);
    const layer = JSON.parse(bobs.text).layers[0].digest as string;
    const alices = await token(
      server.directUrl,
      ['repository:alice/copy:pull,push', 'repository:bob/secret:pull'],
      ['alice', PASSWORDS.alice],
    );
    const res = await request(server.directUrl)
      .post(v2(`alice/copy/blobs/uploads/?mount=${layer}&from=bob/secret`))
      .set('Authorization', `Bearer ${alices}`)
      .expect(202);
    assert.match(res.headers.location as string, /^\/v2\/alice\/copy\/blobs\/uploads\//);
    await request(server.directUrl)
      .head(v2(`alice/copy/blobs/${layer}`))
      .set('Authorization', `Bearer ${alices}`)
      .expect(404);
  });

  it('an unknown user gets the same answer as a wrong password', async () => {
    const wrong = await tokenRequest(server.directUrl, [], ['alice', 'not-her-password']).expect(401);
    const unknown = await tokenRequest(server.directUrl, [], ['mallory', 'guess']).expect(401);
    assert.deepEqual(unknown.body, wrong.body);
    assert.equal(unknown.headers['www-authenticate'], wrong.headers['www-authenticate']);
  });

  it('unknown service is 400; malformed Basic credentials are 400', async () => {
    const res = await request(server.directUrl).get('/auth/token?service=other').expect(400);
    assert.match(ociError(res.body).message, /unknown service/);
    await request(server.directUrl).get('/auth/token').set('Authorization', 'Basic bm9jb2xvbg==').expect(400);
  });

  it('logins, tokens and refusals are counted in /metrics', async () => {
    await tokenRequest(server.directUrl, [], ['alice', 'metrics-wrong']).expect(401);
    const metrics = (await request(server.directUrl).get('/metrics').expect(200)).text;
    const count = (event: string) =>
      Number(
        new RegExp(`^berth_auth_events_total\\{event="${event}"\\} (\\d+)`, 'm').exec(metrics)?.[1] ?? 0,
      );
    for (const event of [
      'login_success',
      'login_failure',
      'token_issued',
      'token_invalid',
      'access_denied',
    ]) {
      assert.ok(count(event) > 0, event);
    }
  });

  it('secrets never reach the log', async () => {
    const everything = server.logs.join('\n');
    for (const secret of [...Object.values(PASSWORDS), ROBOT_SECRET, 'Bearer ', 'Basic ', 'eyJ']) {
      assert.ok(!everything.includes(secret), `log contains ${secret}`);
    }
    assert.match(everything, /"user":"alice"/);
  });
});

describe('token auth: OAuth2 POST, refresh tokens, reloads and key rotation', () => {
  let server: TestServer;
  let dir: string;
  let policyFile: string;

  before(async () => {
    ({ server, dir, policy: policyFile } = await startTokenServer({ token: { algorithm: 'RS256' } }));
  });
  after(() => closeTokenServer(server, dir));

  const post = (form: Record<string, string>) =>
    request(server.directUrl).post('/auth/token').type('form').send(form);

  it('the password grant issues an access token and, offline, a refresh token that works', async () => {
    const res = await post({
      grant_type: 'password',
      username: 'alice',
      password: PASSWORDS.alice,
      service: 'berth',
      scope: 'repository:public/app:pull,push repository:alice/x:pull',
      client_id: 'test',
      access_type: 'offline',
    }).expect(200);
    assert.equal(res.body.scope, 'repository:public/app:pull,push repository:alice/x:pull');
    assert.equal(res.body.expires_in, 300);
    assert.ok(res.body.refresh_token);
    assert.equal(res.headers['cache-control'], 'no-store');
    const refreshed = await post({
      grant_type: 'refresh_token',
      refresh_token: res.body.refresh_token,
      service: 'berth',
      scope: 'repository:public/app:pull',
      client_id: 'test',
    }).expect(200);
    assert.deepEqual(accessOf(refreshed.body.access_token), [
      { type: 'repository', name: 'public/app', actions: ['pull'] },
    ]);
    // A refresh token grants nothing by itself.
    await request(server.directUrl)
      .get('/v2/public/app/tags/list')
      .set('Authorization', `Bearer ${res.body.refresh_token}`)
      .expect(401);
  });

  it("the token endpoint's query and form fields never reach the access log", async () => {
    const before = server.logs.length;
    await request(server.directUrl)
      .get('/auth/token?service=berth&scope=repository:alice/x:pull&password=query-secret-1')
      .set('Authorization', basic('alice', PASSWORDS.alice))
      .set('X-Request-Id', 'token-get')
      .expect(200);
    const issued = await request(server.directUrl)
      .post('/auth/token?refresh_token=query-secret-2')
      .type('form')
      .set('X-Request-Id', 'token-post')
      .send({ grant_type: 'password', username: 'alice', password: PASSWORDS.alice, access_type: 'offline' })
      .expect(200);
    const lines = () => server.logs.slice(before).map((line) => JSON.parse(line));
    await waitFor(() => lines().filter((line) => /^token-/.test(line.request_id ?? '')).length === 2);
    for (const line of lines().filter((entry) => /^token-/.test(entry.request_id ?? ''))) {
      assert.equal(line.path, '/auth/token');
      assert.equal(line.query, undefined);
    }
    const written = server.logs.slice(before).join('\n');
    for (const secret of ['query-secret', PASSWORDS.alice, issued.body.refresh_token, issued.body.token]) {
      assert.ok(!written.includes(secret), `log contains ${String(secret).slice(0, 20)}`);
    }
  });

  it('GET with offline_token=true returns a refresh token, never for anonymous callers', async () => {
    const named = await request(server.directUrl)
      .get('/auth/token?service=berth&offline_token=true')
      .set('Authorization', basic('bob', PASSWORDS.bob))
      .expect(200);
    assert.ok(named.body.refresh_token);
    const anonymous = await request(server.directUrl)
      .get('/auth/token?service=berth&offline_token=true')
      .expect(200);
    assert.equal(anonymous.body.refresh_token, undefined);
  });

  it('a password change (picked up from the file) invalidates refresh tokens and the old password', async () => {
    const first = await post({
      grant_type: 'password',
      username: 'alice',
      password: PASSWORDS.alice,
      access_type: 'offline',
    }).expect(200);
    await writePolicy(dir, await policyText('alice-new-password'));
    await waitFor(
      async () => (await tokenRequest(server.directUrl, [], ['alice', 'alice-new-password'])).status === 200,
    );
    await post({ grant_type: 'refresh_token', refresh_token: first.body.refresh_token }).expect(401);
    await tokenRequest(server.directUrl, [], ['alice', PASSWORDS.alice]).expect(401);
  });

  it('a policy file that turns invalid keeps the last good policy in force', async () => {
    await writePolicy(dir, 'users: [not, a, mapping]\n');
    await server.reloadAuth();
    await tokenRequest(server.directUrl, [], ['bob', PASSWORDS.bob]).expect(200);
    assert.ok(server.logs.some((line) => line.includes('auth policy not reloaded')));
    await writePolicy(dir, await policyText());
    await server.reloadAuth();
  });

  it('other grant types and missing fields are 400', async () => {
    await post({ grant_type: 'client_credentials' }).expect(400);
    await post({ grant_type: 'password', username: 'alice' }).expect(400);
    await post({ grant_type: 'refresh_token' }).expect(400);
    await post({ grant_type: 'refresh_token', refresh_token: 'junk' }).expect(401);
  });

  it('after a key rotation, tokens of the old key keep working until they expire', async () => {
    const oldKey = await signingKeyOf(join(dir, 'key.pem'));
    const rotated = await startTestServer({
      config: {
        auth: {
          mode: 'token',
          policy: policyFile,
          token: {
            signingkey: join(dir, 'new-key.pem'),
            verifykeys: [join(dir, 'key.pem')],
            algorithm: 'RS256',
          },
        },
      },
    });
    try {
      const access = [{ type: 'repository', name: 'x/y', actions: ['pull'] }];
      const old = signRs256(claims({ access }), oldKey.privateKey, oldKey.kid);
      const res = await request(rotated.directUrl)
        .get('/v2/x/y/tags/list')
        .set('Authorization', `Bearer ${old}`);
      assert.equal(res.status, 404, 'the old token is accepted (the repository just does not exist)');
      const fresh = await token(rotated.directUrl, []);
      const header = JSON.parse(Buffer.from(fresh.split('.')[0] as string, 'base64url').toString());
      assert.notEqual(header.kid, oldKey.kid);
      assert.equal(header.alg, 'RS256');
    } finally {
      await rotated.close();
    }
  });
});

describe('token auth: failed logins are rate-limited', () => {
  let server: TestServer;
  let dir: string;

  before(async () => {
    ({ server, dir } = await startTokenServer({ loginlimit: { failures: 3, window: '1m' } }));
  });
  after(() => closeTokenServer(server, dir));

  it('wrong passwords are 401; repeated failures are 429 with Retry-After, even for the right password', async () => {
    for (const attempt of ['wrong-1', 'wrong-2', 'wrong-3']) {
      const wrong = await tokenRequest(server.directUrl, [], ['alice', attempt]).expect(401);
      assert.equal(ociError(wrong.body).code, 'UNAUTHORIZED');
      assert.match(String(wrong.headers['www-authenticate']), /^Basic realm=/);
    }
    const limited = await tokenRequest(server.directUrl, [], ['alice', PASSWORDS.alice]).expect(429);
    assert.equal(ociError(limited.body).code, 'TOOMANYREQUESTS');
    assert.ok(Number(limited.headers['retry-after']) >= 1);
  });

  it("one user's failures do not lock out other users from the same address", async () => {
    for (const attempt of ['typo-1', 'typo-2', 'typo-3']) {
      await tokenRequest(server.directUrl, [], ['root', attempt]).expect(401);
    }
    await tokenRequest(server.directUrl, [], ['root', PASSWORDS.root]).expect(429);
    await tokenRequest(server.directUrl, [], ['bob', PASSWORDS.bob]).expect(200);
  });
});

describe('token auth behind a trusted reverse proxy', () => {
  let server: TestServer;
  let dir: string;

  before(async () => {
    ({ server, dir } = await startTokenServer({ loginlimit: { addressfailures: 2 } }, { trustproxy: true }));
  });
  after(() => closeTokenServer(server, dir));

  it('derives the realm from X-Forwarded-Proto and -Host', async () => {
    const res = await request(server.directUrl)
      .get('/v2/')
      .set('X-Forwarded-Proto', 'https')
      .set('X-Forwarded-Host', 'registry.example.com')
      .expect(401);
    assert.equal(
      challengeParams(res.headers['www-authenticate']).realm,
      'https://registry.example.com/auth/token',
    );
  });

  it('limits logins per client address from the last X-Forwarded-For hop, which a client cannot forge', async () => {
    const attempt = (forwardedFor: string, password: string) =>
      tokenRequest(server.directUrl, [], ['alice', password]).set('X-Forwarded-For', forwardedFor);
    await attempt('10.0.0.1', 'wrong').expect(401);
    // The client wrote 10.0.0.9 itself; the proxy appended the address it saw.
    await request(server.directUrl)
      .get('/auth/token?service=berth')
      .set('Authorization', basic('bob', 'wrong'))
      .set('X-Forwarded-For', '10.0.0.9, 10.0.0.1')
      .expect(401);
    await request(server.directUrl)
      .get('/auth/token?service=berth')
      .set('Authorization', basic('bob', PASSWORDS.bob))
      .set('X-Forwarded-For', '10.0.0.1')
      .expect(429);
    await request(server.directUrl)
      .get('/auth/token?service=berth')
      .set('Authorization', basic('bob', PASSWORDS.bob))
      .set('X-Forwarded-For', '10.0.0.2')
      .expect(200);
  });
});

describe('token auth directly exposed', () => {
  it('ignores X-Forwarded-* unless http.trustproxy is on', async () => {
    const { server, dir } = await startTokenServer();
    try {
      const res = await request(server.directUrl)
        .get('/v2/')
        .set('X-Forwarded-Proto', 'https')
        .set('X-Forwarded-Host', 'evil.example.com')
        .expect(401);
      assert.equal(challengeParams(res.headers['www-authenticate']).realm, `${server.directUrl}/auth/token`);
    } finally {
      await closeTokenServer(server, dir);
    }
  });
});

function withoutExpiry(payload: Record<string, unknown>): Record<string, unknown> {
  const { exp: _exp, ...rest } = payload;
  return rest;
}
