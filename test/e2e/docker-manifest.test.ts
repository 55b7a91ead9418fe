/**
 * `docker manifest` against Berth: two images built offline for linux/amd64 and linux/arm64
 * (`docker build --platform` from scratch needs no emulator, as nothing runs), pushed to one
 * repository, joined into a manifest list in another with `docker manifest create/push
 * --insecure`; `docker pull --platform` then gets each platform's image. The tests run in order.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { removeDir, tempDir } from '../helpers/tmp.js';
import { type BerthProcess, serverErrors, startBerthProcess } from './helpers/berth-process.js';
import { assertContains, type DockerSession, dockerSession, pushedDigest } from './helpers/docker.js';

const RUN = randomBytes(3).toString('hex');
const PLATFORMS = `docker-${RUN}/platforms`;
const MULTI = `docker-${RUN}/multi`;
const ARCHITECTURES = ['amd64', 'arm64'] as const;
const LIST_TYPE = 'application/vnd.docker.distribution.manifest.list.v2+json';

interface ListEntry {
  digest: string;
  platform: { os: string; architecture: string };
}

describe('docker manifest lists against Berth', () => {
  let berth: BerthProcess;
  let work: string;
  let docker: DockerSession;
  /** Per architecture: the image id docker built and the manifest digest it pushed. */
  const built = new Map<string, { id: string; digest: string }>();
  let listDigest: string;

  const list = () => `${berth.host}/${MULTI}:1`;
  const platformImage = (architecture: string) => `${berth.host}/${PLATFORMS}:${architecture}`;

  before(async () => {
    work = await tempDir('berth-e2e-docker-manifest-');
    berth = await startBerthProcess();
    docker = await dockerSession(work, berth.logs);
    for (const architecture of ARCHITECTURES) {
      const context = {
        files: [{ name: 'platform.txt', content: `linux/${architecture} ${RUN}\n` }],
        dockerfile: ['FROM scratch', 'COPY platform.txt /platform.txt'],
      };
      const id = await docker.build(platformImage(architecture), context, `linux/${architecture}`);
      const digest = pushedDigest(await docker.ok(['push', platformImage(architecture)]), architecture);
      built.set(architecture, { id, digest });
    }
  });
  after(async () => {
    // Any of them may be missing if before() failed part-way. The docker cleanup goes last: it
    // fails the suite if something is left, and must not keep the rest from being removed.
    await berth?.close();
    if (work) await removeDir(work);
    await docker?.cleanup();
  });

  it('docker manifest create needs --insecure even for a loopback registry', async () => {
    const refused = await docker.fails(
      ['manifest', 'create', list(), ...ARCHITECTURES.map(platformImage)],
      /no such manifest/,
    );
    // The CLI skips the plain-HTTP endpoint, so it finds nothing at the registry at all.
    assertContains(refused, `no such manifest: ${platformImage('amd64')}`);
  });

  it('docker manifest create and push --insecure put a two-platform list into Berth', async () => {
    const created = await docker.ok([
      'manifest',
      'create',
      '--insecure',
      list(),
      ...ARCHITECTURES.map(platformImage),
    ]);
    assertContains(created, `Created manifest list ${list()}`);
    const out = await docker.ok(['manifest', 'push', '--insecure', '--purge', list()]);
    for (const { digest } of built.values()) {
      // Each platform's manifest goes into the list's repository, its blobs mounted across.
      assertContains(out, `Pushed ref ${berth.host}/${MULTI}@${digest} with digest: ${digest}`);
    }
    listDigest = out.trim().split('\n').at(-1) as string;
    assert.match(listDigest, /^sha256:[0-9a-f]{64}$/, out);

    const res = await fetch(`${berth.url}/v2/${MULTI}/manifests/1`, { headers: { Accept: LIST_TYPE } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('docker-content-digest'), listDigest);
    const body = (await res.json()) as { mediaType: string; manifests: ListEntry[] };
    assert.equal(body.mediaType, LIST_TYPE);
    assert.deepEqual(
      body.manifests.map((entry) => [entry.platform.os, entry.platform.architecture, entry.digest]),
      ARCHITECTURES.map((architecture) => ['linux', architecture, built.get(architecture)?.digest]),
    );
  });

  it('docker pull --platform gets the image of each platform from the list', async () => {
    await docker.ok(['rmi', '--force', ...[...built.values()].map(({ id }) => id)]);
    for (const architecture of ARCHITECTURES) {
      const pulled = await docker.ok(['pull', '--platform', `linux/${architecture}`, list()]);
      assertContains(pulled, `Digest: ${listDigest}\n`);
      const inspected = await docker.ok([
        'image',
        'inspect',
        '--format',
        '{{.Os}}/{{.Architecture}}',
        list(),
      ]);
      assert.equal(inspected.trim(), `linux/${architecture}`);
      assert.equal(await docker.imageId(list()), built.get(architecture)?.id, 'the image docker built');
      await docker.ok(['rmi', '--force', built.get(architecture)?.id as string]);
    }
  });

  it('docker pull --platform of a platform the list lacks is refused', async () => {
    await docker.fails(
      ['pull', '--platform', 'linux/s390x', list()],
      /no matching manifest for linux\/s390x in the manifest list entries/,
    );
  });

  it('no request ended in a server error', () => {
    assert.deepEqual(serverErrors(berth.logs), []);
  });
});
