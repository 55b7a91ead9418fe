/**
 * The docker engine against Berth (no auth): build a three-layer image from local files, push
 * it, remove it, pull it back by tag and by digest and run it; re-push ("Layer already
 * exists"); push to a second repository ("Mounted from"). The tests run in order: each starts
 * from what the one before left in Berth and in the engine. The manifest-list tests are in
 * docker-manifest.test.ts, the login tests in docker-auth.test.ts.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { removeDir, tempDir } from '../helpers/tmp.js';
import { type BerthProcess, serverErrors, startBerthProcess } from './helpers/berth-process.js';
import {
  assertAppLayers,
  assertContains,
  busyboxApp,
  type DockerSession,
  dockerSession,
  pushedDigest,
} from './helpers/docker.js';

const RUN = randomBytes(3).toString('hex');
const APP = `docker-${RUN}/app`;
const COPY = `docker-${RUN}/copy`;
const SCHEMA2 = 'application/vnd.docker.distribution.manifest.v2+json';

describe('docker push and pull against Berth', () => {
  let berth: BerthProcess;
  let work: string;
  let docker: DockerSession;
  let expectedOutput: string;
  /** The digest docker printed when it pushed APP:1. */
  let pushed: string;

  const ref = (repository: string, tagOrDigest: string) =>
    `${berth.host}/${repository}${tagOrDigest.startsWith('sha256:') ? '@' : ':'}${tagOrDigest}`;
  /** The manifest digest Berth serves for `repository:tag`. */
  const digestInBerth = async (repository: string, tag: string) => {
    const res = await fetch(`${berth.url}/v2/${repository}/manifests/${tag}`, {
      method: 'HEAD',
      headers: { Accept: SCHEMA2 },
    });
    assert.equal(res.status, 200, `HEAD ${repository}:${tag}`);
    return res.headers.get('docker-content-digest');
  };

  before(async () => {
    work = await tempDir('berth-e2e-docker-');
    berth = await startBerthProcess();
    docker = await dockerSession(work, berth.logs);
    const app = await busyboxApp(RUN);
    expectedOutput = app.output;
    await docker.build(ref(APP, '1'), app.context);
  });
  after(async () => {
    // Any of them may be missing if before() failed part-way. The docker cleanup goes last: it
    // fails the suite if something is left, and must not keep the rest from being removed.
    await berth?.close();
    if (work) await removeDir(work);
    await docker?.cleanup();
  });

  it('pushes a three-layer image built from local files, pulls it back after rmi and runs it', async () => {
    const image = ref(APP, '1');
    const out = await docker.ok(['push', image]);
    assertContains(out, `The push refers to repository [${berth.host}/${APP}]`);
    assertAppLayers(out, 'Pushed');
    pushed = pushedDigest(out, '1');
    assert.equal(await digestInBerth(APP, '1'), pushed, 'Berth serves the manifest docker pushed');

    await docker.ok(['rmi', image]);
    assert.equal(await docker.imageId(image), undefined, 'the image is gone from the engine');
    const pulled = await docker.ok(['pull', image]);
    assertAppLayers(pulled, 'Pull complete');
    assertContains(pulled, `Digest: ${pushed}\n`);
    assertContains(pulled, `Status: Downloaded newer image for ${image}\n`);
    assert.equal(await docker.runImage(image), expectedOutput);
  });

  it('pulls by the digest docker printed on push', async () => {
    const id = (await docker.imageId(ref(APP, '1'))) as string;
    await docker.ok(['rmi', '--force', id]);
    const byDigest = ref(APP, pushed);
    const pulled = await docker.ok(['pull', byDigest]);
    assertAppLayers(pulled, 'Pull complete');
    assertContains(pulled, `Digest: ${pushed}\n`);
    assertContains(pulled, `Status: Downloaded newer image for ${byDigest}\n`);
    assert.equal(await docker.imageId(byDigest), id, 'the same image (config digest) came back');
    assert.equal(await docker.runImage(byDigest), expectedOutput);
  });

  it('a second push of the same image finds every layer already there', async () => {
    await docker.ok(['tag', ref(APP, pushed), ref(APP, '1')]);
    const out = await docker.ok(['push', ref(APP, '1')]);
    assertAppLayers(out, 'Layer already exists');
    assert.equal(pushedDigest(out, '1'), pushed);
  });

  it('a push to a second repository mounts the layers from the first', async () => {
    await docker.ok(['tag', ref(APP, '1'), ref(COPY, '2')]);
    const out = await docker.ok(['push', ref(COPY, '2')]);
    const mounted = `Mounted from ${APP}`;
    assertAppLayers(out, mounted);
    assert.equal(pushedDigest(out, '2'), pushed);
    assert.equal(await digestInBerth(COPY, '2'), pushed);
  });

  it('no request ended in a server error', () => {
    assert.deepEqual(serverErrors(berth.logs), []);
  });
});
