/**
 * Where the built-in token server's signing key lives: by default in the store, one key for
 * every replica that shares it (made once, even by replicas starting together); a key an earlier
 * version made at ROOT/_auth/token-signing-key.pem stays in use; a configured file is used as is.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { loadOrCreateSigningKey } from '../../src/auth/keys.js';
import { checkedDriver } from '../../src/blobstore/checked.js';
import { isNotFound } from '../../src/blobstore/driver.js';
import { createFilesystemDriver } from '../../src/blobstore/filesystem.js';
import { SIGNING_KEY_PATH } from '../../src/blobstore/layout.js';
import { quickHash, token, writePolicy } from '../helpers/auth.js';
import { ON_FILESYSTEM, startTestServer, type TestServer } from '../helpers/server.js';
import { removeDir, tempDir } from '../helpers/tmp.js';

const ALICE: [string, string] = ['alice', 'alice-password'];
const SCOPE = 'repository:alice/app:pull';

async function tokenAuth(dir: string, token: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const policy = await writePolicy(
    dir,
    `users:\n  alice: { password: "${await quickHash(ALICE[1])}" }\nrepositories:\n  - match: "alice/**"\n    users: { alice: [pull] }\n`,
  );
  return { auth: { mode: 'token', policy, token } };
}

function kidOf(issued: string): string | undefined {
  return jwt.decode(issued, { complete: true })?.header.kid;
}

/** 404 NAME_UNKNOWN is how an accepted token is answered for a repository that does not exist. */
async function accepts(server: TestServer, issued: string): Promise<boolean> {
  const res = await request(server.url)
    .get('/v2/alice/app/tags/list')
    .set('Authorization', `Bearer ${issued}`);
  return res.status === 404;
}

describe('token signing key location', () => {
  it('two servers starting at once on one store make one key: each accepts the tokens of the other', async () => {
    const dir = await tempDir('berth-key-store-');
    // Each server has a local directory of its own, and the store they share is elsewhere, as
    // replicas on S3 have: a key on a replica's local disk would be that replica's alone.
    const store = await createFilesystemDriver({ rootDirectory: join(dir, 'store') });
    const config = await tokenAuth(dir);
    // The shared store is given as a wrapper; the configured driver under it is not used.
    const replica = (name: string) =>
      startTestServer({
        root: join(dir, name),
        config: { ...config, storage: ON_FILESYSTEM },
        wrapDriver: () => checkedDriver(store),
      });
    const [a, b] = await Promise.all([replica('a'), replica('b')]);
    try {
      const fromA = await token(a.url, [SCOPE], ALICE);
      const fromB = await token(b.url, [SCOPE], ALICE);
      assert.equal(kidOf(fromA), kidOf(fromB), 'one key');
      assert.ok(await accepts(b, fromA), 'b accepts a token of a');
      assert.ok(await accepts(a, fromB), 'a accepts a token of b');
      const stored = await store.getContent(SIGNING_KEY_PATH);
      assert.match(stored.toString(), /^-----BEGIN PRIVATE KEY-----/);
    } finally {
      await Promise.all([a.stop(), b.stop()]);
      await removeDir(dir);
    }
  });

  it('a key an earlier version made at ROOT/_auth/token-signing-key.pem stays in use, byte for byte', async () => {
    const dir = await tempDir('berth-key-old-');
    const root = join(dir, 'data');
    const file = join(root, '_auth', 'token-signing-key.pem');
    const old = await loadOrCreateSigningKey(file, 'ES256');
    const bytes = await readFile(file);
    // Earlier versions stored only on the filesystem, so only a filesystem root has such a key.
    const onFilesystem = { ...(await tokenAuth(dir)), storage: ON_FILESYSTEM };
    const server = await startTestServer({ root, config: onFilesystem });
    try {
      assert.equal(kidOf(await token(server.url, [SCOPE], ALICE)), old.kid);
      assert.deepEqual(await readFile(file), bytes);
    } finally {
      await server.stop();
      await removeDir(dir);
    }
  });

  it('a configured auth.token.signingkey file is used, and no key is written to the store', async () => {
    const dir = await tempDir('berth-key-file-');
    const file = join(dir, 'key.pem');
    const server = await startTestServer({ config: await tokenAuth(dir, { signingkey: file }) });
    try {
      const configured = await loadOrCreateSigningKey(file, 'ES256');
      assert.equal(kidOf(await token(server.url, [SCOPE], ALICE)), configured.kid);
      await assert.rejects(server.driver.getContent(SIGNING_KEY_PATH), (err: unknown) => isNotFound(err));
    } finally {
      await server.close();
      await removeDir(dir);
    }
  });
});
