/**
 * Immutable tags with real clients: `docker push` and `podman push` of a changed image to an
 * immutable tag are refused, and the client shows why; pushing the same image again, or to a
 * new tag, works.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { removeDir, tempDir } from '../helpers/tmp.js';
import { type BerthProcess, startBerthProcess } from './helpers/berth-process.js';
import { busyboxApp, type DockerSession, dockerSession } from './helpers/docker.js';
import { ociLayout, randomFile } from './helpers/oci-layout.js';
import { privateStorage, run, runOk } from './helpers/run.js';

const RULES = JSON.stringify([{ repository: 'prod/**', tags: ['v*'] }]);
const MESSAGE =
  /tag v1 of prod\/[a-z0-9-]+ is immutable \(tags\.immutable rule 1: repository prod\/\*\*, tags v\*\)/;

describe('podman push to an immutable tag', () => {
  let berth: BerthProcess;
  let work: string;
  let podman: (...args: string[]) => ReturnType<typeof run>;

  before(async () => {
    berth = await startBerthProcess({ env: { BERTH_TAGS_IMMUTABLE: RULES } });
    work = await tempDir('berth-immutable-podman-');
    const layout = await ociLayout(path.join(work, 'images'));
    const first = await layout.image([[randomFile('one', 10_000)]]);
    const second = await layout.image([[randomFile('two', 10_000)]]);
    await layout.finish([
      { name: 'first', descriptor: first },
      { name: 'second', descriptor: second },
    ]);
    const storage = privateStorage(work);
    podman = (...args: string[]) => run('podman', [...storage, '--events-backend', 'file', ...args]);
    // Into podman through Berth: a mutable staging repository, as podman.test.ts does.
    for (const tag of ['first', 'second']) {
      const stage = `${berth.host}/stage/pod:${tag}`;
      await runOk('skopeo', [
        'copy',
        '--dest-tls-verify=false',
        `oci:${work}/images:${tag}`,
        `docker://${stage}`,
      ]);
      const pulled = await podman('pull', '--tls-verify=false', stage);
      assert.equal(pulled.code, 0, pulled.stderr);
    }
  });
  after(async () => {
    await berth.close();
    await removeDir(work);
  });

  it('refuses a changed image with the reason, accepts the same one again and a new tag', async () => {
    const target = `docker://${berth.host}/prod/pod:v1`;
    const push = (image: string, to = target) => podman('push', '--tls-verify=false', image, to);
    const first = `${berth.host}/stage/pod:first`;
    const second = `${berth.host}/stage/pod:second`;
    const created = await push(first);
    assert.equal(created.code, 0, created.stderr);
    const moved = await push(second);
    assert.notEqual(moved.code, 0, 'podman push of another image to v1 must fail');
    assert.match(moved.stderr, MESSAGE);
    const again = await push(first);
    assert.equal(again.code, 0, again.stderr);
    const other = await push(second, `docker://${berth.host}/prod/pod:v2`);
    assert.equal(other.code, 0, other.stderr);
    const inspected = JSON.parse(
      await runOk('skopeo', ['inspect', '--tls-verify=false', `docker://${berth.host}/prod/pod:v1`]),
    );
    const original = JSON.parse(
      await runOk('skopeo', ['inspect', '--tls-verify=false', `oci:${work}/images:first`]),
    );
    assert.deepEqual(inspected.Layers, original.Layers, 'v1 is still the first image');
  });
});

describe('docker push to an immutable tag', () => {
  const RUN = randomBytes(3).toString('hex');
  let berth: BerthProcess;
  let work: string;
  let docker: DockerSession;
  const image = () => `${berth.host}/prod/docker-${RUN}:v1`;

  before(async () => {
    work = await tempDir('berth-immutable-docker-');
    berth = await startBerthProcess({ env: { BERTH_TAGS_IMMUTABLE: RULES } });
    docker = await dockerSession(work, berth.logs);
  });
  after(async () => {
    await berth?.close();
    if (work) await removeDir(work);
    await docker?.cleanup();
  });

  it('refuses a rebuilt image with the reason; the first push and a re-push succeed', async () => {
    await docker.build(image(), (await busyboxApp(`${RUN}-1`)).context);
    await docker.ok(['push', image()]);
    await docker.ok(['push', image()]);
    await docker.build(image(), (await busyboxApp(`${RUN}-2`)).context);
    await docker.fails(['push', image()], MESSAGE);
  });
});
