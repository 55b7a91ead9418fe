/**
 * The Berth container image (the top-level Dockerfile), built and run with docker: it serves
 * as a non-root user with config from a mounted berth.yml and the environment, reports healthy,
 * takes a docker push and gives the image back on pull, and drains an upload in flight on
 * `docker stop`. The base images are stand-ins made from this machine's node
 * (helpers/node-base-images.ts), since nothing can be pulled from Docker Hub here.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { copyFile, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { removeDir, tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { REPO_ROOT } from './helpers/berth-process.js';
import { docker, dockerResources, requireDocker, uniqueName } from './helpers/docker-resources.js';
import { buildNodeBaseImages } from './helpers/node-base-images.js';
import { sendStream } from './helpers/stream-client.js';

const BUILD_TIMEOUT_MS = 10 * 60_000;
const START_TIMEOUT_MS = 60_000;
const MiB = 1024 * 1024;

describe('the Berth container image', () => {
  const created = dockerResources();
  const name = uniqueName('berth-e2e-image');
  const container = created.container(name);
  const volume = created.volume(`${name}-data`);
  let dir: string;
  let image: string;
  let runtimeBase: string;
  let url = '';

  before(
    async () => {
      await requireDocker();
      dir = await tempDir('berth-image-');
      const bases = await buildNodeBaseImages(dir, `${name}-node`);
      created.image(bases.runtime);
      created.image(bases.build);
      runtimeBase = bases.runtime;
      const baseArgs = [
        '--build-arg',
        `BUILD_BASE=${bases.build}`,
        '--build-arg',
        `RUNTIME_BASE=${bases.runtime}`,
      ];
      // The build stage gets a tag of its own so that removing it removes its layers too.
      const stage = created.image(`${name}-build-stage`);
      await docker(['build', '-q', ...baseArgs, '--target', 'build', '-t', stage, REPO_ROOT]);
      image = created.image(`${name}:test`);
      await docker(['build', '-q', ...baseArgs, '-t', image, REPO_ROOT]);
      await startContainer();
    },
    { timeout: BUILD_TIMEOUT_MS },
  );
  after(async () => {
    await created.removeAll();
    if (dir) await removeDir(dir);
  });

  /** Runs the image with a named volume, a mounted berth.yml and env, on a loopback port. */
  async function startContainer(): Promise<void> {
    const config = path.join(dir, 'berth.yml');
    await writeFile(
      config,
      [
        'http:',
        '  draintimeout: 60s',
        '  headers:',
        '    X-Berth-Config: [mounted-file]',
        'metrics:',
        '  path: /from-file-metrics',
      ].join('\n'),
    );
    await docker(['volume', 'create', volume]);
    await docker([
      'run',
      '-d',
      '--name',
      container,
      '-p',
      '127.0.0.1::5000',
      '-v',
      `${volume}:/data`,
      '-v',
      `${config}:/etc/berth/berth.yml:ro`,
      '-e',
      'BERTH_CONFIG=/etc/berth/berth.yml',
      '-e',
      'BERTH_METRICS_PATH=/env-metrics',
      // The image's own HEALTHCHECK command, probed every second instead of every 30.
      '--health-interval',
      '1s',
      image,
    ]);
    await waitUntilServing();
  }

  async function waitUntilServing(): Promise<void> {
    const published = await docker(['port', container, '5000/tcp']);
    const host = /127\.0\.0\.1:\d+/.exec(published)?.[0];
    assert.ok(host, `docker port gave ${published}`);
    url = `http://${host}`;
    // node:http rather than fetch: a connection docker-proxy resets before Berth listens
    // leaves fetch pending forever, while node:http reports ECONNRESET.
    const answers = () => sendStream(`${url}/v2/`, 'GET', undefined).then(({ status }) => status === 200);
    await waitFor(() => answers().catch(() => false), START_TIMEOUT_MS);
  }

  const inspect = async (format: string, target = container) =>
    (await docker(['inspect', '--format', format, target])).trim();

  it('holds only what berth serve needs', async (t) => {
    const listing = await docker([
      'run',
      '--rm',
      '--entrypoint',
      'node',
      image,
      '-e',
      `const fs = require('node:fs');
       console.log(JSON.stringify({
         app: fs.readdirSync('/app').sort(),
         dist: fs.readdirSync('/app/dist'),
         typescript: fs.existsSync('/app/node_modules/typescript'),
         biome: fs.existsSync('/app/node_modules/@biomejs/biome'),
         koa: fs.existsSync('/app/node_modules/koa/package.json'),
       }));`,
    ]);
    assert.deepEqual(JSON.parse(listing), {
      app: ['bin', 'dist', 'node_modules', 'package.json'],
      dist: ['src'],
      typescript: false,
      biome: false,
      koa: true,
    });
    const size = Number(await inspect('{{.Size}}', image));
    const baseSize = Number(await inspect('{{.Size}}', runtimeBase));
    const own = size - baseSize;
    t.diagnostic(
      `image ${mb(size)} = base ${mb(baseSize)} (this machine's node and its libraries) + Berth ${mb(own)}`,
    );
    assert.ok(own < 40 * MiB, `Berth adds ${mb(own)} to its base: no dev dependencies or sources`);
  });

  it('runs as uid 1000 with /data owned by it, config from the mounted file and the environment', async () => {
    const pid = await inspect('{{.State.Pid}}');
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const uids = /^Uid:\s+(.*)$/m.exec(status)?.[1]?.split(/\s+/);
    assert.deepEqual(uids, ['1000', '1000', '1000', '1000'], 'real, effective, saved and fs uid of berth');
    const mountpoint = await docker(['volume', 'inspect', '--format', '{{.Mountpoint}}', volume]);
    assert.equal((await stat(mountpoint.trim())).uid, 1000, 'a new named volume is owned by uid 1000');
    assert.match(await docker(['logs', container]), /storing data in \/data \(filesystem\)/);

    const v2 = await fetch(`${url}/v2/`);
    assert.equal(v2.headers.get('x-berth-config'), 'mounted-file', 'http.headers from berth.yml');
    const envMetrics = await fetch(`${url}/env-metrics`);
    assert.equal(envMetrics.status, 200, 'metrics.path from BERTH_METRICS_PATH');
    assert.match(await envMetrics.text(), /berth_http_requests_total/);
    const fileMetrics = await fetch(`${url}/from-file-metrics`);
    assert.equal(fileMetrics.status, 404, 'the environment wins over the file');
    await fileMetrics.body?.cancel();
  });

  it("reports healthy through the image's HEALTHCHECK", async () => {
    await waitFor(async () => (await inspect('{{.State.Health.Status}}')) === 'healthy', START_TIMEOUT_MS);
    const log = JSON.parse(await inspect('{{json .State.Health.Log}}')) as { Output: string }[];
    assert.match(log.at(-1)?.Output ?? '', /127\.0\.0\.1:5000\/readyz: ready/);
  });

  it('takes a docker push and gives the image back on pull', async () => {
    const context = path.join(dir, 'busybox-image');
    await mkdir(context);
    await copyFile('/bin/busybox', path.join(context, 'busybox'));
    await writeFile(
      path.join(context, 'Dockerfile'),
      'FROM scratch\nCOPY busybox /bin/busybox\nENTRYPOINT ["/bin/busybox"]\nCMD ["echo", "pulled back"]\n',
    );
    const reference = created.image(`${url.replace('http://', '')}/e2e/busybox:1`);
    await docker(['build', '-q', '-t', reference, context]);
    const pushedId = await inspect('{{.Id}}', reference);
    await docker(['push', reference]);
    await docker(['rmi', reference]);
    await docker(['pull', reference]);
    assert.equal(await inspect('{{.Id}}', reference), pushedId, 'the same image config comes back');
    assert.equal((await docker(['run', '--rm', reference])).trim(), 'pulled back');
  });

  it('finishes an upload in flight on docker stop, exits 0 and keeps the blob in the volume', async () => {
    const blob = randomBytes(4 * MiB);
    const digest = `sha256:${createHash('sha256').update(blob).digest('hex')}`;
    const opened = await fetch(`${url}/v2/e2e/drain/blobs/uploads/`, { method: 'POST' });
    assert.equal(opened.status, 202);
    const target = new URL(opened.headers.get('location') ?? '', url);
    target.searchParams.set('digest', digest);
    const body = new PassThrough();
    const upload = sendStream(target.href, 'PUT', body, {
      'content-type': 'application/octet-stream',
      'content-length': String(blob.length),
    });
    body.write(blob.subarray(0, MiB));
    await waitFor(async () => /^berth_uploads_in_progress 1$/m.test(await metricsText()), START_TIMEOUT_MS);

    const stopped = dockerStop(container);
    await waitFor(
      async () => /shutting down: finishing in-flight requests/.test(await logs()),
      START_TIMEOUT_MS,
    );
    body.end(blob.subarray(MiB));
    const response = await upload;
    assert.equal(response.status, 201, response.text);
    assert.equal(await stopped, 0, 'docker stop returned');
    assert.equal(await inspect('{{.State.ExitCode}}'), '0', 'berth exited 0 after draining');
    assert.match(await logs(), /"msg":"stopped"/);

    await docker(['start', container]);
    await waitUntilServing();
    const head = await fetch(`${url}/v2/e2e/drain/blobs/${digest}`, { method: 'HEAD' });
    assert.equal(head.status, 200, 'the blob survived the restart in the volume');
    assert.equal(head.headers.get('content-length'), String(blob.length));
  });

  async function metricsText(): Promise<string> {
    return (await fetch(`${url}/env-metrics`)).text();
  }

  async function logs(): Promise<string> {
    return docker(['logs', container]);
  }
});

/** Runs `docker stop` (generous timeout: the drain must end it, not SIGKILL) in the background. */
function dockerStop(container: string): Promise<number | null> {
  const child = spawn('docker', ['stop', '--time', '120', container], { stdio: 'ignore' });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => resolve(code));
  });
}

function mb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}
