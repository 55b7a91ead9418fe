import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { checkLogin, removeCredentials, saveCredentials } from '../../src/agent/credentials.js';
import { inspectImage, listImagesTable, removeImage } from '../../src/agent/image-commands.js';
import { hostPlatform } from '../../src/agent/platform.js';
import { createProgressDisplay } from '../../src/agent/progress.js';
import { type PullEvent, type PullOptions, pullImage } from '../../src/agent/pull.js';
import { type AgentStore, openStore } from '../../src/agent/store.js';
import { quickHash, writePolicy } from '../helpers/auth.js';
import { startChallengeProxy } from '../helpers/challenge-proxy.js';
import {
  imageManifest,
  jsonBlob,
  OCI_INDEX,
  OCI_LAYER,
  OCI_MANIFEST,
  pushBlob,
  pushManifest,
  randomBlob,
  sha256,
  type TestDescriptor,
} from '../helpers/oci.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { removeDir, tempDir } from '../helpers/tmp.js';

/** Pushes an image whose config says `platform`, with random layers of the given sizes. */
async function pushTestImage(
  url: string,
  name: string,
  tag: string,
  platform: { os: string; architecture: string; variant?: string },
  layerSizes: number[],
) {
  const layers = layerSizes.map((size) => randomBlob(size));
  const config = jsonBlob({
    ...platform,
    config: { Env: ['PATH=/bin'], Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: layers.map((layer) => sha256(layer.content)) },
  });
  await pushBlob(url, name, config.content);
  for (const layer of layers) await pushBlob(url, name, layer.content);
  const manifest = imageManifest({
    config: config.descriptor,
    layers: layers.map((layer) => layer.descriptor),
  });
  const digest = await pushManifest(url, name, tag, manifest);
  return { digest, manifest, config, layers, platform };
}

/** A fetch that records the URLs it was asked for. */
function countingFetch(): { urls: string[]; fetch: typeof fetch } {
  const urls: string[] = [];
  return {
    urls,
    fetch: (input, init) => {
      urls.push(String(input));
      return fetch(input, init);
    },
  };
}

async function fileDigest(path: string): Promise<string> {
  return `sha256:${createHash('sha256')
    .update(await readFile(path))
    .digest('hex')}`;
}

const KiB = 1024;
const ESC = '\u001b';
const roots: string[] = [];
async function freshStore(): Promise<AgentStore> {
  const root = await tempDir('berth-agent-');
  roots.push(root);
  return openStore(root);
}
after(async () => {
  for (const root of roots) await removeDir(root);
});

describe('berth agent pull from Berth', () => {
  let server: TestServer;
  let host: string;
  let single: Awaited<ReturnType<typeof pushTestImage>>;
  let amd64: Awaited<ReturnType<typeof pushTestImage>>;
  let arm64: Awaited<ReturnType<typeof pushTestImage>>;
  let indexDigest: string;

  before(async () => {
    server = await startTestServer();
    host = new URL(server.url).host;
    single = await pushTestImage(server.url, 'app/single', 'v1', hostPlatform(), [
      300 * KiB,
      400 * KiB,
      200 * KiB,
    ]);
    amd64 = await pushTestImage(server.url, 'app/multi', 'amd64', { os: 'linux', architecture: 'amd64' }, [
      256 * KiB,
      128 * KiB,
    ]);
    arm64 = await pushTestImage(
      server.url,
      'app/multi',
      'arm64',
      { os: 'linux', architecture: 'arm64', variant: 'v8' },
      [256 * KiB, 128 * KiB],
    );
    const index = Buffer.from(
      JSON.stringify({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [amd64, arm64].map((image) => ({
          mediaType: 'application/vnd.oci.image.manifest.v1+json',
          digest: image.digest,
          size: image.manifest.length,
          platform: image.platform,
        })),
      }),
    );
    indexDigest = await pushManifest(server.url, 'app/multi', 'v1', index, OCI_INDEX);
  });
  after(() => server.close());

  it('pulls a multi-layer image into the content store and records it', async () => {
    const store = await freshStore();
    const events: PullEvent[] = [];
    const record = await pullImage(store, `${host}/app/single:v1`, {
      onProgress: (event) => events.push(event),
    });
    assert.equal(record.reference, `${host}/app/single:v1`);
    assert.equal(record.registry, host);
    assert.equal(record.repository, 'app/single');
    assert.equal(record.tag, 'v1');
    assert.equal(record.manifestDigest, single.digest);
    assert.equal(record.indexDigest, undefined);
    assert.equal(record.configDigest, single.config.descriptor.digest);
    assert.deepEqual(
      record.layers,
      single.layers.map((layer) => layer.descriptor),
    );
    assert.equal(record.size, 900 * KiB);
    assert.deepEqual(record.platform, hostPlatform());
    assert.ok(Date.now() - Date.parse(record.pulledAt) < 60_000);
    for (const digest of [
      single.digest,
      single.config.descriptor.digest,
      ...record.layers.map((l) => l.digest),
    ]) {
      assert.equal(await fileDigest(store.blobPath(digest)), digest);
    }
    assert.deepEqual(await store.getImage(`${host}/app/single:v1`), JSON.parse(JSON.stringify(record)));
    const done = events.find((event) => event.type === 'done');
    assert.equal(done?.type === 'done' && done.downloadedBytes, 900 * KiB + single.config.content.length);
    assert.equal(events.filter((event) => event.type === 'blob-start').length, 4);
  });

  it('downloads nothing on a second pull', async () => {
    const store = await freshStore();
    await pullImage(store, `${host}/app/single:v1`);
    const counting = countingFetch();
    const events: PullEvent[] = [];
    await pullImage(store, `${host}/app/single:v1`, {
      fetch: counting.fetch,
      onProgress: (e) => events.push(e),
    });
    assert.deepEqual(
      counting.urls.filter((url) => url.includes('/blobs/')),
      [],
    );
    assert.equal(events.filter((event) => event.type === 'blob-start').length, 0);
    assert.equal(events.filter((event) => event.type === 'blob-done' && event.skipped).length, 4);
  });

  it('pulls by digest, and finds the image by digest, ID prefix and short names', async () => {
    const store = await freshStore();
    const record = await pullImage(store, `${host}/app/single@${single.digest}`);
    assert.equal(record.reference, `${host}/app/single@${single.digest}`);
    assert.equal(record.tag, undefined);
    assert.equal(record.manifestDigest, single.digest);
    assert.equal(
      (await store.getImage(single.config.descriptor.digest.slice(7, 19)))?.reference,
      record.reference,
    );
    assert.equal((await store.getImage(single.config.descriptor.digest))?.reference, record.reference);
    assert.equal(await store.getImage(single.config.descriptor.digest.slice(7, 18)), undefined);
    await pullImage(store, `${host}/app/single:v1`);
    assert.equal((await store.getImage(`${host}/app/single:v1`))?.tag, 'v1');
    await assert.rejects(pullImage(store, `${host}/app/single@${amd64.digest}`), /not found/);
  });

  it('picks the platform from an index: --platform, arm64 with or without v8', async () => {
    const store = await freshStore();
    const arm = await pullImage(store, `${host}/app/multi:v1`, { platform: 'linux/arm64' });
    assert.equal(arm.manifestDigest, arm64.digest);
    assert.equal(arm.indexDigest, indexDigest);
    assert.equal(arm.configDigest, arm64.config.descriptor.digest);
    assert.deepEqual(arm.platform, { os: 'linux', architecture: 'arm64', variant: 'v8' });
    assert.equal(await fileDigest(store.blobPath(indexDigest)), indexDigest);
    const armV8 = await pullImage(store, `${host}/app/multi:v1`, { platform: 'linux/arm64/v8' });
    assert.equal(armV8.manifestDigest, arm64.digest);
    const amd = await pullImage(store, `${host}/app/multi:v1`, {
      platform: { os: 'linux', architecture: 'amd64' },
    });
    assert.equal(amd.manifestDigest, amd64.digest);
    assert.deepEqual(amd.platform, { os: 'linux', architecture: 'amd64' });
    const host64 = ['amd64', 'arm64'].includes(hostPlatform().architecture);
    if (host64) {
      const native = await pullImage(store, `${host}/app/multi:v1`);
      assert.equal(native.platform.architecture, hostPlatform().architecture);
    }
  });

  it('names the available platforms when none matches', async () => {
    const store = await freshStore();
    await assert.rejects(pullImage(store, `${host}/app/multi:v1`, { platform: 'linux/riscv64' }), {
      message: `no manifest for platform linux/riscv64 in ${host}/app/multi:v1; available: linux/amd64, linux/arm64/v8`,
    });
    await assert.rejects(
      pullImage(store, `${host}/app/single:v1`, { platform: 'linux/s390x' }),
      /is for .*not linux\/s390x/,
    );
    assert.deepEqual(await store.listImages(), []);
  });

  it('stops when aborted, leaving no temp files and no record', async () => {
    const store = await freshStore();
    const controller = new AbortController();
    const pull = pullImage(store, `${host}/app/single:v1`, {
      signal: controller.signal,
      onProgress: (event) => event.type === 'blob-progress' && controller.abort(),
    });
    await assert.rejects(pull, { name: 'AbortError' });
    assert.deepEqual(
      (await readdir(store.layout.blobs)).filter((name) => name.startsWith('.tmp')),
      [],
    );
    assert.deepEqual(await store.listImages(), []);
  });

  it('says what is missing or unreachable', async () => {
    const store = await freshStore();
    await assert.rejects(pullImage(store, `${host}/app/single:nope`), {
      message: `${host}/app/single:nope not found`,
    });
    await assert.rejects(pullImage(store, `${host}/app/absent`), /not found/);
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    await assert.rejects(pullImage(store, `127.0.0.1:${port}/app/x`), {
      message: `cannot reach 127.0.0.1:${port}: ECONNREFUSED`,
    });
  });

  it('reports progress as plain lines, or as a live display on a terminal', async () => {
    const store = await freshStore();
    const plain: string[] = [];
    const display = createProgressDisplay({ write: (text: string) => plain.push(text) });
    await pullImage(store, `${host}/app/single:v1`, { onProgress: display.onProgress });
    display.close();
    const text = plain.join('');
    assert.match(text, /^pulling .*app\/single:v1 \(.*\): 4 blobs/);
    assert.equal(text.match(/: downloading /g)?.length, 4);
    assert.equal(text.match(/: done\n/g)?.length, 4);
    assert.match(text, /pulled .*: [\d.]+ [kM]B in [\d.]+ s \([\d.]+ MB\/s\), image ID [0-9a-f]{12}\n$/);
    assert.ok(!text.includes(ESC), 'no escape sequences in plain output');

    const live: string[] = [];
    const tty = createProgressDisplay({ write: (t: string) => live.push(t), isTTY: true });
    await pullImage(await freshStore(), `${host}/app/multi:v1`, {
      onProgress: tty.onProgress,
      platform: 'linux/amd64',
    });
    tty.close();
    assert.ok(live.join('').includes(`${ESC}[4A${ESC}[2Kconfig `), 'redraws the block in place');
    assert.match(live.join(''), /total .* \(3 of 3 blobs\)/);
  });

  it('lists, inspects and removes images', async () => {
    const store = await freshStore();
    await pullImage(store, `${host}/app/single:v1`);
    await pullImage(store, `${host}/app/multi:v1`, { platform: 'linux/arm64' });
    const table: string[] = [];
    await listImagesTable(store, { write: (t: string) => table.push(t) });
    const lines = table.join('').trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^REPOSITORY\s+TAG\s+IMAGE ID\s+PULLED\s+SIZE$/);
    assert.equal(lines.length, 3);
    assert.match(
      lines.join('\n'),
      new RegExp(
        `${host}/app/single\\s+v1\\s+${single.config.descriptor.digest.slice(7, 19)}\\s+(Less than a second|\\d+ seconds?) ago\\s+922 kB`,
      ),
    );
    const inspected: string[] = [];
    await inspectImage(store, `${host}/app/multi:v1`, { write: (t: string) => inspected.push(t) });
    const document = JSON.parse(inspected.join(''));
    assert.equal(document.manifestDigest, arm64.digest);
    assert.equal(document.config.architecture, 'arm64');
    assert.deepEqual(
      document.config.rootfs.diff_ids,
      arm64.layers.map((layer) => sha256(layer.content)),
    );
    const removed = await removeImage(store, single.config.descriptor.digest.slice(7, 21));
    assert.deepEqual(
      removed.map((record) => record.reference),
      [`${host}/app/single:v1`],
    );
    await assert.rejects(removeImage(store, `${host}/app/single:v1`), /no such image/);
    await assert.rejects(inspectImage(store, 'nothing', { write: () => {} }), /no such image: nothing/);
    assert.equal((await store.listImages()).length, 1);
    assert.ok(await store.hasBlob(single.config.descriptor.digest), 'blobs stay for prune');
  });
});

/**
 * A registry that serves one image (tag v1, and under a digest it does not hash to), a foreign
 * layer image, a helm chart, and a layer body made by `layerBody` from the real one.
 */
async function startFakeRegistry(layerBody: (layer: Buffer) => Buffer) {
  const layer = randomBytes(64 * KiB);
  const descriptor = { mediaType: OCI_LAYER, digest: sha256(layer), size: layer.length };
  const config = jsonBlob({
    os: 'linux',
    architecture: 'amd64',
    rootfs: { type: 'layers', diff_ids: [sha256(layer)] },
  });
  const foreign = {
    ...descriptor,
    mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
    urls: ['https://example.com/layer'],
  } as TestDescriptor;
  const helm = { ...config.descriptor, mediaType: 'application/vnd.cncf.helm.config.v1+json' };
  const v1 = imageManifest({ config: config.descriptor, layers: [descriptor] });
  const manifests: Record<string, Buffer> = {
    v1,
    [sha256('other')]: v1,
    foreign: imageManifest({ config: config.descriptor, layers: [foreign] }),
    artifact: imageManifest({ config: helm, layers: [descriptor] }),
  };
  const blobs: Record<string, Buffer> = {
    [config.descriptor.digest]: config.content,
    [descriptor.digest]: layerBody(layer),
  };
  const server = createServer((req, res) => {
    const match = /^\/v2\/bad\/image\/(manifests|blobs)\/([^/]+)$/.exec(req.url ?? '');
    const body = match?.[1] === 'manifests' ? manifests[match[2] as string] : blobs[match?.[2] ?? ''];
    if (!body) return void res.writeHead(404).end();
    const type = match?.[1] === 'manifests' ? OCI_MANIFEST : 'application/octet-stream';
    res.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    layerDigest: descriptor.digest,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('berth agent pull from a registry that sends bad content', () => {
  it('refuses a corrupted layer and leaves neither blob, temp file nor record', async () => {
    const fake = await startFakeRegistry((layer) => {
      const corrupt = Buffer.from(layer);
      corrupt[1000] = (corrupt[1000] as number) ^ 0xff;
      return corrupt;
    });
    const store = await freshStore();
    try {
      await assert.rejects(
        pullImage(store, `${fake.host}/bad/image:v1`),
        /blob sha256:[0-9a-f]{64} failed verification/,
      );
      assert.equal(await store.hasBlob(fake.layerDigest), false);
      assert.deepEqual(
        (await readdir(store.layout.blobs)).filter((name) => name.startsWith('.tmp')),
        [],
      );
      assert.deepEqual(await store.listImages(), []);
    } finally {
      await fake.close();
    }
  });

  it('refuses a layer longer than its descriptor, a manifest that does not hash to the digest asked for, and foreign layers', async () => {
    const fake = await startFakeRegistry((layer) => Buffer.concat([layer, Buffer.alloc(10)]));
    const store = await freshStore();
    try {
      await assert.rejects(
        pullImage(store, `${fake.host}/bad/image:v1`),
        /larger than the \d+ bytes its descriptor says/,
      );
      assert.equal(await store.hasBlob(fake.layerDigest), false);
      await assert.rejects(
        pullImage(store, `${fake.host}/bad/image@${sha256('other')}`),
        /hashes to sha256:[0-9a-f]{64}, not the digest asked for/,
      );
      await assert.rejects(
        pullImage(store, `${fake.host}/bad/image:foreign`),
        /foreign \(non-distributable\) layer/,
      );
      await assert.rejects(pullImage(store, `${fake.host}/bad/image:artifact`), /is not a container image/);
    } finally {
      await fake.close();
    }
  });
});

describe('berth agent pull with token auth', () => {
  let server: TestServer;
  let dir: string;
  let host: string;
  const ALICE = { username: 'alice', password: 'alice-password' };
  const WRONG = { username: 'alice', password: 'not-her-password' };

  before(async () => {
    dir = await tempDir('berth-agent-auth-');
    const policy = await writePolicy(
      dir,
      `users:\n  alice: { password: "${await quickHash(ALICE.password)}" }\nrepositories:\n` +
        `  - match: "public/**"\n    anonymous: [pull]\n    users: { alice: [pull, push] }\n` +
        `  - match: "\${user}/**"\n    owner: [pull, push]\n`,
    );
    server = await startTestServer({
      config: { auth: { mode: 'token', policy, token: { signingkey: `${dir}/key.pem` } } },
    });
    host = new URL(server.directUrl).host;
    const asAlice = await startChallengeProxy(server.directUrl, ALICE.username, ALICE.password);
    await pushTestImage(asAlice.url, 'public/app', 'v1', hostPlatform(), [32 * KiB]);
    await pushTestImage(asAlice.url, 'alice/private', 'v1', hostPlatform(), [32 * KiB, 16 * KiB]);
    await asAlice.close();
  });
  after(async () => {
    await server.close();
    await removeDir(dir);
  });

  it('pulls a public repository anonymously', async () => {
    const record = await pullImage(await freshStore(), `${host}/public/app:v1`);
    assert.equal(record.layers.length, 1);
  });

  it('refuses a private repository without credentials or with a wrong password, saying why', async () => {
    const store = await freshStore();
    await assert.rejects(
      pullImage(store, `${host}/alice/private:v1`),
      new RegExp(`^Error: access denied to ${host}/alice/private: .*UNAUTHORIZED.*berth agent login`),
    );
    await assert.rejects(
      pullImage(store, `${host}/alice/private:v1`, { credentials: WRONG }),
      new RegExp(`access denied to ${host}/alice/private: the token server refused user "alice"`),
    );
    assert.deepEqual(await store.listImages(), []);
  });

  it('pulls a private repository with credentials, asking the token server once', async () => {
    const counting = countingFetch();
    const options: PullOptions = { credentials: ALICE, fetch: counting.fetch };
    const record = await pullImage(await freshStore(), `${host}/alice/private:v1`, options);
    assert.equal(record.layers.length, 2);
    assert.equal(counting.urls.filter((url) => url.includes('/auth/token')).length, 1);
    assert.ok(counting.urls.filter((url) => url.includes('/blobs/')).length >= 3);
  });

  it('uses credentials saved in credentials.json, checked by checkLogin first', async () => {
    const store = await freshStore();
    await assert.rejects(checkLogin(host, WRONG), /refused user "alice"/);
    await checkLogin(host, ALICE);
    await saveCredentials(store.layout.root, host, ALICE);
    assert.equal((await stat(store.layout.credentials)).mode & 0o777, 0o600);
    assert.equal((await pullImage(store, `${host}/alice/private:v1`)).repository, 'alice/private');
    assert.equal(await removeCredentials(store.layout.root, host), true);
    assert.equal(await removeCredentials(store.layout.root, host), false);
    await assert.rejects(pullImage(store, `${host}/alice/private:v1`), /access denied/);
  });
});

describe('berth agent pull with basic auth', () => {
  it('answers a Basic challenge with the credentials it has', async () => {
    const dir = await tempDir('berth-agent-basic-');
    const policy = await writePolicy(
      dir,
      `users:\n  alice: { password: "${await quickHash('alice-password')}" }\nrepositories:\n` +
        `  - match: "shared/**"\n    anonymous: [push]\n    users: { alice: [pull] }\n`,
    );
    const server = await startTestServer({ config: { auth: { mode: 'basic', policy } } });
    const host = new URL(server.directUrl).host;
    try {
      await pushTestImage(server.directUrl, 'shared/app', 'v1', hostPlatform(), [8 * KiB]);
      const store = await freshStore();
      await assert.rejects(pullImage(store, `${host}/shared/app:v1`), /access denied to .*shared\/app/);
      const credentials = { username: 'alice', password: 'alice-password' };
      assert.equal((await pullImage(store, `${host}/shared/app:v1`, { credentials })).tag, 'v1');
      await checkLogin(host, credentials);
      await assert.rejects(checkLogin(host, { ...credentials, password: 'wrong-password' }), /access denied/);
    } finally {
      await server.close();
      await removeDir(dir);
    }
  });
});
