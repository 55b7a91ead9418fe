import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { challengeParams, claims, rsaKeyPair, signRs256 } from '../helpers/auth.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { removeDir, tempDir } from '../helpers/tmp.js';

const ISSUER = 'auth.example.com';
const SERVICE = 'registry.example.com';
const REALM = 'https://auth.example.com/token';

describe('token auth with an external issuer', () => {
  const bundleKey = rsaKeyPair();
  const jwksKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let dir: string;
  let rsaServer: TestServer;
  let ecServer: TestServer;
  const access = [{ type: 'repository', name: 'team/app', actions: ['pull'] }];
  const external = (overrides: Record<string, unknown> = {}) =>
    claims({ iss: ISSUER, aud: SERVICE, access, ...overrides });

  before(async () => {
    dir = await tempDir('berth-external-');
    const bundle = join(dir, 'bundle.pem');
    await writeFile(bundle, bundleKey.publicKey.export({ format: 'pem', type: 'spki' }) as string);
    rsaServer = await startTestServer({
      config: {
        auth: {
          mode: 'token',
          token: {
            realm: REALM,
            service: SERVICE,
            issuer: ISSUER,
            rootcertbundle: bundle,
            algorithm: 'RS256',
          },
        },
      },
    });
    const jwks = join(dir, 'jwks.json');
    await writeFile(
      jwks,
      JSON.stringify({ keys: [{ ...jwksKey.publicKey.export({ format: 'jwk' }), kid: 'k1', use: 'sig' }] }),
    );
    ecServer = await startTestServer({
      config: {
        auth: {
          mode: 'token',
          token: { realm: REALM, service: SERVICE, issuer: ISSUER, jwks, algorithm: 'ES256' },
        },
      },
    });
  });
  after(async () => {
    await rsaServer.close();
    await ecServer.close();
    await removeDir(dir);
  });

  it('challenges with the configured realm and service, and serves no token endpoint', async () => {
    const res = await request(rsaServer.directUrl).get('/v2/team/app/tags/list').expect(401);
    assert.deepEqual(challengeParams(res.headers['www-authenticate']), {
      realm: REALM,
      service: SERVICE,
      scope: 'repository:team/app:pull',
    });
    await request(rsaServer.directUrl).get('/auth/token').expect(404);
  });

  it('accepts tokens signed by a key of the certificate bundle, whatever their kid', async () => {
    const good = signRs256(external(), bundleKey.privateKey, 'libtrust-style:ABCD:EFGH');
    const res = await request(rsaServer.directUrl)
      .get('/v2/team/app/tags/list')
      .set('Authorization', `Bearer ${good}`);
    assert.equal(res.status, 404, 'authorized; the repository does not exist');
    const stranger = signRs256(external(), rsaKeyPair().privateKey, 'x');
    await request(rsaServer.directUrl)
      .get('/v2/team/app/tags/list')
      .set('Authorization', `Bearer ${stranger}`)
      .expect(401);
    const berthIssued = signRs256(claims({ access }), bundleKey.privateKey, 'x');
    await request(rsaServer.directUrl)
      .get('/v2/team/app/tags/list')
      .set('Authorization', `Bearer ${berthIssued}`)
      .expect(401);
  });

  it('without a policy, the catalog needs registry:catalog:*', async () => {
    const repoOnly = signRs256(external(), bundleKey.privateKey, 'x');
    const refused = await request(rsaServer.directUrl)
      .get('/v2/_catalog')
      .set('Authorization', `Bearer ${repoOnly}`)
      .expect(401);
    assert.equal(challengeParams(refused.headers['www-authenticate']).error, 'insufficient_scope');
    const catalog = signRs256(
      external({ access: [{ type: 'registry', name: 'catalog', actions: ['*'] }] }),
      bundleKey.privateKey,
      'x',
    );
    await request(rsaServer.directUrl)
      .get('/v2/_catalog')
      .set('Authorization', `Bearer ${catalog}`)
      .expect(200);
  });

  it('accepts ES256 tokens from a JWKS key and refuses RS256 ones (the algorithm is pinned)', async () => {
    const es = jwt.sign(external(), jwksKey.privateKey, {
      algorithm: 'ES256',
      keyid: 'k1',
      noTimestamp: true,
    });
    const ok = await request(ecServer.directUrl)
      .get('/v2/team/app/tags/list')
      .set('Authorization', `Bearer ${es}`);
    assert.equal(ok.status, 404);
    const rs = signRs256(external(), bundleKey.privateKey, 'k1');
    const refused = await request(ecServer.directUrl)
      .get('/v2/team/app/tags/list')
      .set('Authorization', `Bearer ${rs}`)
      .expect(401);
    assert.equal(challengeParams(refused.headers['www-authenticate']).error, 'invalid_token');
  });

  it('a reload picks up a rotated JWKS; a broken one keeps the keys in force', async () => {
    const rotated = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const sign = (key: typeof rotated.privateKey, kid: string) =>
      jwt.sign(external(), key, { algorithm: 'ES256', keyid: kid });
    const get = (token: string) =>
      request(ecServer.directUrl).get('/v2/team/app/tags/list').set('Authorization', `Bearer ${token}`);
    assert.equal((await get(sign(rotated.privateKey, 'k2'))).status, 401, 'not trusted yet');
    const jwks = join(dir, 'jwks.json');
    const entry = (key: typeof rotated.publicKey, kid: string) => ({
      ...key.export({ format: 'jwk' }),
      kid,
      use: 'sig',
    });
    await writeFile(
      jwks,
      JSON.stringify({ keys: [entry(jwksKey.publicKey, 'k1'), entry(rotated.publicKey, 'k2')] }),
    );
    await ecServer.reloadAuth();
    assert.equal((await get(sign(rotated.privateKey, 'k2'))).status, 404, 'trusted after the reload');
    await writeFile(jwks, 'not json');
    await ecServer.reloadAuth();
    assert.equal((await get(sign(rotated.privateKey, 'k2'))).status, 404, 'still trusted');
    assert.ok(ecServer.logs.some((line) => line.includes('token verification keys not refreshed')));
  });

  it('an unreadable bundle or JWKS stops start-up naming the key', async () => {
    await assert.rejects(
      startTestServer({
        config: {
          auth: { mode: 'token', token: { realm: REALM, rootcertbundle: join(dir, 'missing.pem') } },
        },
      }),
      /auth\.token\.rootcertbundle: cannot read/,
    );
    const junk = join(dir, 'junk.json');
    await writeFile(junk, '{"keys": []}');
    await assert.rejects(
      startTestServer({ config: { auth: { mode: 'token', token: { realm: REALM, jwks: junk } } } }),
      /auth\.token\.jwks: .*no usable/,
    );
  });
});
