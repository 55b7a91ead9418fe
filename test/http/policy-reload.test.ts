/**
 * A policy file written in place (an editor, `: > policy.yml`, `cat > policy.yml`) is empty or
 * half written for a moment. The server must never put such a file in force: anonymous pulls
 * of a public repository keep working through every rewrite.
 */
import assert from 'node:assert/strict';
import { open, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { quickHash, tokenRequest, writePolicy } from '../helpers/auth.js';
import { type ChallengeProxy, startChallengeProxy } from '../helpers/challenge-proxy.js';
import { OCI_MANIFEST, pushImage } from '../helpers/oci.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { removeDir, tempDir } from '../helpers/tmp.js';

const ADMIN_PASSWORD = 'root-password';

async function policyText(comment: string): Promise<string> {
  return `# ${comment}
users:
  root: { password: "${await quickHash(ADMIN_PASSWORD)}", admin: true }
repositories:
  - match: "public/**"
    anonymous: [pull]
`;
}

/** An anonymous client's pull of public/app:1: a token, then the manifest; resolves with its status. */
async function anonymousPull(url: string): Promise<number> {
  const token = (await tokenRequest(url, ['repository:public/app:pull']).expect(200)).body.token as string;
  const res = await request(url)
    .get('/v2/public/app/manifests/1')
    .set('Authorization', `Bearer ${token}`)
    .set('Accept', OCI_MANIFEST);
  return res.status;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Rewrites `file` in place as an editor does: truncate, then write. `emptyFor` keeps it empty
 * for a while first; `halfFor` writes it in two parts, cut inside a quoted string, with a wait
 * in between.
 */
async function rewriteInPlace(file: string, text: string, emptyFor: number, halfFor: number): Promise<void> {
  const handle = await open(file, 'r+');
  try {
    await handle.truncate(0);
    if (emptyFor > 0) await pause(emptyFor);
    const bytes = Buffer.from(text);
    const cut = halfFor > 0 ? text.indexOf('$2') + 5 : bytes.length;
    await handle.write(bytes, 0, cut, 0);
    if (halfFor > 0) await pause(halfFor);
    if (cut < bytes.length) await handle.write(bytes, cut, bytes.length - cut, cut);
  } finally {
    await handle.close();
  }
}

describe('policy file rewritten in place', () => {
  let dir: string;
  let file: string;
  let server: TestServer;
  let admin: ChallengeProxy;
  before(async () => {
    dir = await tempDir('berth-policy-reload-');
    file = await writePolicy(dir, await policyText('first'));
    server = await startTestServer({
      config: { auth: { mode: 'token', policy: file, token: { signingkey: join(dir, 'key.pem') } } },
    });
    admin = await startChallengeProxy(server.directUrl, 'root', ADMIN_PASSWORD);
    await pushImage(admin.url, 'public/app', '1');
  });
  after(async () => {
    await admin?.close();
    await server?.close();
    if (dir) await removeDir(dir);
  });

  it('an emptied file is refused and the previous policy stays until the next good write', async () => {
    assert.equal(await anonymousPull(server.directUrl), 200);
    await truncate(file, 0);
    await server.reloadAuth();
    assert.ok(
      server.logs.some((line) => line.includes('the policy is empty')),
      'the refusal is logged',
    );
    assert.equal(await anonymousPull(server.directUrl), 200);
    await writeFile(file, (await policyText('second')).replace('anonymous: [pull]', 'anonymous: []'));
    await server.reloadAuth();
    assert.equal(await anonymousPull(server.directUrl), 401, 'the next good file is in force');
    await writeFile(file, await policyText('third'));
    await server.reloadAuth();
    assert.equal(await anonymousPull(server.directUrl), 200);
  });

  it('no anonymous pull gets 401 while the file is rewritten in place 110 times', async () => {
    const statuses: number[] = [];
    let rewriting = true;
    const puller = async () => {
      while (rewriting) statuses.push(await anonymousPull(server.directUrl));
      statuses.push(await anonymousPull(server.directUrl));
    };
    const pullers = [puller(), puller()];
    try {
      for (let i = 0; i < 110; i++) {
        // Mostly quick saves; every tenth leaves the file empty, and another half written,
        // longer than the watcher waits before reloading.
        const text = await policyText(`rewrite ${i}`);
        await rewriteInPlace(file, text, i % 10 === 0 ? 400 : 0, i % 10 === 5 ? 150 : 0);
        await pause(5);
      }
    } finally {
      rewriting = false;
      await Promise.all(pullers);
    }
    const refused = statuses.filter((status) => status !== 200);
    assert.ok(statuses.length > 2, `pulls ran alongside the rewrites (${statuses.length})`);
    assert.deepEqual(refused, [], `${refused.length} of ${statuses.length} pulls were refused`);
  });
});
