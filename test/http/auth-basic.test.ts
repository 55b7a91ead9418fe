import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { basic, quickHash, usersSection, writePolicy } from '../helpers/auth.js';
import { ociError, sha256 } from '../helpers/oci.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { removeDir, tempDir } from '../helpers/tmp.js';

const ALICE = basic('alice', 'alice-password');
const BOB = basic('bob', 'bob-password');

describe('basic auth with a policy file', () => {
  let server: TestServer;
  let dir: string;
  const blob = Buffer.from('a layer');
  const push = (name: string, authorization?: string) => {
    const req = request(server.directUrl)
      .post(`/v2/${name}/blobs/uploads/?digest=${sha256(blob)}`)
      .set('Content-Type', 'application/octet-stream');
    return (authorization ? req.set('Authorization', authorization) : req).send(blob);
  };

  before(async () => {
    dir = await tempDir('berth-basic-');
    const policy = await writePolicy(
      dir,
      `${await usersSection(['alice', 'bob'])}repositories:
  - match: "public/**"
    anonymous: [pull]
    users: { alice: [pull, push, delete] }
`,
    );
    server = await startTestServer({ config: { auth: { mode: 'basic', policy, basic: { realm: 'Acme' } } } });
  });
  after(async () => {
    await server.close();
    await removeDir(dir);
  });

  it('a permitted user pushes; anonymous callers pull public content without credentials', async () => {
    await push('public/app', ALICE).expect(201);
    await request(server.directUrl)
      .head(`/v2/public/app/blobs/${sha256(blob)}`)
      .expect(200);
  });

  it('anonymous callers are challenged where they may not go', async () => {
    const res = await push('public/app').expect(401);
    assert.equal(res.headers['www-authenticate'], 'Basic realm="Acme",charset="UTF-8"');
    assert.equal(ociError(res.body).code, 'UNAUTHORIZED');
    await request(server.directUrl).get('/v2/').expect(401);
    await request(server.directUrl).get('/v2/').set('Authorization', BOB).expect(200);
  });

  it('a known user without the permission gets 403 DENIED', async () => {
    const res = await push('public/app', BOB).expect(403);
    assert.equal(ociError(res.body).code, 'DENIED');
    await request(server.directUrl).get('/v2/private/x/tags/list').set('Authorization', ALICE).expect(403);
  });

  it('a wrong password is 401 with the challenge', async () => {
    const res = await request(server.directUrl)
      .get('/v2/public/app/tags/list')
      .set('Authorization', basic('alice', 'nope'))
      .expect(401);
    assert.match(String(res.headers['www-authenticate']), /^Basic realm="Acme"/);
  });

  it('the catalog lists what the caller may pull', async () => {
    await push('other/app', ALICE).expect(403);
    const res = await request(server.directUrl).get('/v2/_catalog').set('Authorization', BOB).expect(200);
    assert.deepEqual(res.body.repositories, ['public/app']);
  });

  it('there is no token endpoint in basic mode', async () => {
    await request(server.directUrl).get('/auth/token').expect(404);
  });
});

describe('basic auth with an htpasswd file only', () => {
  let server: TestServer;
  let dir: string;

  before(async () => {
    dir = await tempDir('berth-htpasswd-');
    const file = join(dir, 'htpasswd');
    // htpasswd -B writes $2y$ hashes; they must verify like $2b$ ones.
    const hash = (await quickHash('carol-password')).replace(/^\$2b\$/, '$2y$');
    await writeFile(file, `# users\ncarol:${hash}\n`);
    server = await startTestServer({ config: { auth: { mode: 'basic', htpasswd: { path: file } } } });
  });
  after(async () => {
    await server.close();
    await removeDir(dir);
  });

  it('any user in the file may do everything; anonymous callers nothing', async () => {
    const carol = basic('carol', 'carol-password');
    const blob = Buffer.from('x');
    await request(server.directUrl)
      .post(`/v2/any/repo/blobs/uploads/?digest=${sha256(blob)}`)
      .set('Authorization', carol)
      .set('Content-Type', 'application/octet-stream')
      .send(blob)
      .expect(201);
    const listed = await request(server.directUrl)
      .get('/v2/_catalog')
      .set('Authorization', carol)
      .expect(200);
    assert.deepEqual(listed.body.repositories, ['any/repo']);
    await request(server.directUrl)
      .get(`/v2/any/repo/blobs/${sha256(blob)}`)
      .expect(401);
  });
});
