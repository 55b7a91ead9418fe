/**
 * The container runtime under real runc (needs root): a busybox snapshot made by the test is
 * run with the options `berth agent run` accepts, and everything made on the host is checked
 * to be gone afterwards, even when a test fails.
 */
import assert from 'node:assert/strict';
import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { decodeCapabilityMask } from '../../src/agent/capabilities.js';
import { delay } from '../../src/agent/command.js';
import { containerStatus, loadContainer } from '../../src/agent/containers.js';
import { execInContainer } from '../../src/agent/exec.js';
import { agentLayout } from '../../src/agent/layout.js';
import { pruneContainers, removeContainer, stopContainer, waitForExit } from '../../src/agent/lifecycle.js';
import { containerLogs } from '../../src/agent/logs.js';
import { formatContainerTable, listContainers } from '../../src/agent/ps.js';
import { type RunResult, runContainer } from '../../src/agent/run.js';
import { parseRunArgs } from '../../src/agent/run-options.js';
import { listVolumes, removeVolume } from '../../src/agent/volumes.js';
import { removeDir, tempDir } from '../helpers/tmp.js';
import {
  assertNothingLeft,
  busyboxConfig,
  collector,
  makeBusyboxRootfs,
  removeAllContainers,
} from './helpers/agent-rootfs.js';

describe('agent runtime (runc)', { skip: process.getuid?.() !== 0 ? 'needs root' : false }, () => {
  let dir: string;
  let layout: ReturnType<typeof agentLayout>;
  let rootfs: string;
  const started: string[] = [];

  /** Runs `berth agent run ARGV` against the test snapshot, collecting the output. */
  async function run(argv: string[], config = busyboxConfig()) {
    const { options, image, command } = parseRunArgs(argv);
    const stdout = collector();
    const stderr = collector();
    const result: RunResult = await runContainer(
      layout,
      { rootfs, imageConfig: config, imageRef: image, options, command },
      { stdout, stderr, env: { FROM_AGENT: 'agent value' } },
    );
    started.push(result.id);
    return { ...result, stdout: stdout.text(), stderr: stderr.text() };
  }

  before(async () => {
    dir = await tempDir('berth-agent-runtime-');
    layout = agentLayout(join(dir, 'root'));
    rootfs = await makeBusyboxRootfs(join(dir, 'snapshot', 'rootfs'));
  });

  after(async () => {
    try {
      await removeAllContainers(layout);
      await assertNothingLeft(layout, started);
    } finally {
      await removeDir(dir);
    }
  });

  it('propagates exit codes and keeps stdout and stderr apart (and in the logs)', async () => {
    const result = await run([
      '--network',
      'none',
      'img',
      'sh',
      '-c',
      'echo to-out; echo to-err >&2; exit 42',
    ]);
    assert.equal(result.exitCode, 42);
    assert.equal(result.stdout, 'to-out\n');
    assert.equal(result.stderr, 'to-err\n');
    const out = collector();
    const err = collector();
    await containerLogs(layout, result.name, {}, { stdout: out, stderr: err });
    assert.equal(out.text(), 'to-out\n');
    assert.equal(err.text(), 'to-err\n');
    const missing = await run(['--network', 'none', 'img', 'no-such-program']);
    assert.equal(missing.exitCode, 127);
    assert.match(missing.startError ?? '', /no-such-program/);
  });

  it('runs as --user 1000:1000, a named user with its groups, or the image User', async () => {
    const numeric = await run(['--rm', '--network', 'none', '--user', '1000:1000', 'img', 'id']);
    assert.equal(numeric.stdout.trim(), 'uid=1000(app) gid=1000(app)');
    const named = await run(['--rm', '--network', 'none', '--user', 'app', 'img', 'id']);
    assert.equal(named.stdout.trim(), 'uid=1000(app) gid=1000(app) groups=50(staff)');
    const fromImage = await run(
      ['--rm', '--network', 'none', 'img', 'sh', '-c', 'id -u; echo $HOME'],
      busyboxConfig({ User: 'app' }),
    );
    assert.equal(fromImage.stdout, '1000\n/home/app\n');
    const env = await run([
      '--rm',
      '--network',
      'none',
      '-e',
      'X=1',
      '-e',
      'FROM_AGENT',
      '-w',
      '/tmp',
      'img',
      'sh',
      '-c',
      'echo $X $FROM_AGENT $IMAGE_VAR; pwd',
    ]);
    assert.equal(env.stdout, '1 agent value from-image\n/tmp\n');
  });

  it('--cap-drop ALL --cap-add NET_ADMIN shows in /proc/self/status, for root and non-root', async () => {
    const caps = (status: string, field: string) =>
      decodeCapabilityMask(new RegExp(`^${field}:\\s*([0-9a-f]+)$`, 'm').exec(status)?.[1] ?? '');
    const flags = ['--rm', '--network', 'none', '--cap-drop', 'ALL', '--cap-add', 'NET_ADMIN'];
    const root = await run([...flags, 'img', 'cat', '/proc/self/status']);
    assert.deepEqual(caps(root.stdout, 'CapEff'), ['CAP_NET_ADMIN']);
    assert.deepEqual(caps(root.stdout, 'CapBnd'), ['CAP_NET_ADMIN']);
    const app = await run([...flags, '--user', 'app', 'img', 'cat', '/proc/self/status']);
    assert.deepEqual(caps(app.stdout, 'CapEff'), ['CAP_NET_ADMIN'], 'effective for a non-root user too');
    assert.deepEqual(caps(app.stdout, 'CapAmb'), ['CAP_NET_ADMIN']);
    const plain = await run(['--rm', '--network', 'none', 'img', 'cat', '/proc/self/status']);
    assert.ok(
      caps(plain.stdout, 'CapEff').includes('CAP_CHOWN') &&
        !caps(plain.stdout, 'CapEff').includes('CAP_SYS_ADMIN'),
    );
  });

  it('a ro volume refuses writes; a named volume keeps data across runs and cannot be removed while used', async () => {
    const hostDir = join(dir, 'host-data');
    const ro = await run([
      '--rm',
      '--network',
      'none',
      '-v',
      `${hostDir}:/data:ro`,
      'img',
      'sh',
      '-c',
      'touch /data/x',
    ]);
    assert.notEqual(ro.exitCode, 0);
    assert.match(ro.stderr, /Read-only file system/);
    await writeFile(join(hostDir, 'seen'), 'from the host\n');
    const rw = await run([
      '--rm',
      '--network',
      'none',
      '-v',
      `${hostDir}:/data`,
      'img',
      'sh',
      '-c',
      'cat /data/seen; echo back > /data/back',
    ]);
    assert.equal(rw.stdout, 'from the host\n');
    assert.equal(await readFile(join(hostDir, 'back'), 'utf8'), 'back\n');

    const first = await run([
      '--network',
      'none',
      '-v',
      'keep:/keep',
      'img',
      'sh',
      '-c',
      'echo kept > /keep/file',
    ]);
    assert.equal(first.exitCode, 0);
    const second = await run([
      '--rm',
      '--network',
      'none',
      '-v',
      'keep:/keep:ro',
      'img',
      'cat',
      '/keep/file',
    ]);
    assert.equal(second.stdout, 'kept\n');
    assert.deepEqual(await listVolumes(layout), ['keep']);
    await assert.rejects(removeVolume(layout, 'keep'), /in use by container/);
    await removeContainer(layout, first.id);
    await removeVolume(layout, 'keep');
    assert.deepEqual(await listVolumes(layout), []);
  });

  it('-p publishes a server in the container on 127.0.0.1', async () => {
    const port = await freePort();
    const web = await run(['-d', '-p', `${port}:8080`, 'img', 'httpd', '-f', '-p', '8080', '-h', '/www']);
    const body = await retry(() => httpGet(`http://127.0.0.1:${port}/index.html`));
    assert.equal(body, 'hello from the container\n');
    const rows = await listContainers(layout);
    assert.deepEqual(rows.find((row) => row.id === web.id)?.ports, [`127.0.0.1:${port}->8080/tcp`]);
    await assert.rejects(
      run(['-d', '-p', `${port}:8080`, 'img', 'true']),
      new RegExp(`port 127.0.0.1:${port} is already in use`),
    );
    await removeContainer(layout, web.id, { force: true });
    await assert.rejects(httpGet(`http://127.0.0.1:${port}/`), 'the proxy went with the container');
  });

  it('--memory kills a hog with 137; --pids-limit caps processes', async () => {
    const hog = await run([
      '--rm',
      '--network',
      'none',
      '--memory',
      '16m',
      'img',
      'dd',
      'if=/dev/zero',
      'of=/dev/null',
      'bs=64M',
      'count=1',
    ]);
    assert.equal(hog.exitCode, 137);
    const pids = await run([
      '--rm',
      '--network',
      'none',
      '--pids-limit',
      '5',
      'img',
      'sh',
      '-c',
      'for i in 1 2 3 4 5 6 7 8; do sleep 5 & done; wait',
    ]);
    assert.match(pids.stderr, /can't fork|Resource temporarily unavailable/);
  });

  it('stop -t 1 ends a container that ignores TERM after the timeout, with 137', async () => {
    const stubborn = await run([
      '-d',
      '--network',
      'none',
      'img',
      'sh',
      '-c',
      'trap "" TERM; while true; do sleep 1; done',
    ]);
    assert.equal((await containerStatus(layout, stubborn.id)).state, 'running');
    const begin = Date.now();
    await stopContainer(layout, stubborn.name, 1);
    const took = Date.now() - begin;
    assert.ok(took >= 1000 && took < 6000, `stop took ${took} ms`);
    const status = await containerStatus(layout, stubborn.id);
    assert.equal(status.state, 'exited');
    assert.equal(status.exitCode, 137);
  });

  it('a detached container keeps its exit code and logs; logs -f follows to the end; exec works', async () => {
    const job = await run([
      '-d',
      '--network',
      'none',
      'img',
      'sh',
      '-c',
      'echo one; sleep 1; echo two >&2; echo three; exit 3',
    ]);
    assert.equal(job.exitCode, undefined);
    assert.match(job.id, /^[0-9a-f]{64}$/);
    const exec = collector();
    const code = await execInContainer(
      layout,
      job.id.slice(0, 12),
      ['sh', '-c', 'echo $IMAGE_VAR $E; id -u; exit 5'],
      { env: ['E=x'], user: 'app' },
      { stdout: exec, stderr: collector() },
    );
    assert.equal(code, 5);
    assert.equal(exec.text(), 'from-image x\n1000\n');
    const missing = await execInContainer(
      layout,
      job.id,
      ['no-such-program'],
      { env: [] },
      { stdout: exec, stderr: collector() },
    );
    assert.equal(missing, 127);
    const out = collector();
    const err = collector();
    await containerLogs(layout, job.id, { follow: true, pollMs: 50 }, { stdout: out, stderr: err });
    assert.equal(out.text(), 'one\nthree\n');
    assert.equal(err.text(), 'two\n');
    assert.ok(await waitForExit(layout, job.id, 5000));
    assert.deepEqual(await containerStatus(layout, job.id).then((s) => [s.state, s.exitCode]), ['exited', 3]);
    await assert.rejects(
      execInContainer(layout, job.id, ['true'], { env: [] }, { stdout: exec, stderr: exec }),
      /is not running/,
    );
  });

  it('two containers from one snapshot do not see each other’s writes; the snapshot is unchanged', async () => {
    const before = await treeListing(rootfs);
    const script = 'echo $0 > /tmp/mine; echo $0 > /etc/passwd; sleep 0.3; cat /tmp/mine; ls /tmp';
    const [a, b] = await Promise.all([
      run(['--rm', '--network', 'none', 'img', 'sh', '-c', script, 'a']),
      run(['--rm', '--network', 'none', 'img', 'sh', '-c', script, 'b']),
    ]);
    assert.equal(a?.stdout, 'a\nmine\n');
    assert.equal(b?.stdout, 'b\nmine\n');
    const ro = await run(['--rm', '--network', 'none', '--read-only', 'img', 'sh', '-c', 'touch /new-file']);
    assert.notEqual(ro.exitCode, 0);
    assert.match(ro.stderr, /Read-only file system/);
    assert.deepEqual(await treeListing(rootfs), before);
    assert.match(await readFile(join(rootfs, 'etc', 'passwd'), 'utf8'), /^root:/);
    const kept = await run(['--network', 'none', 'img', 'true']);
    assert.equal((await loadContainer(layout, kept.id))?.rootfsKind, 'overlay');
    await removeContainer(layout, kept.id);

    // overlayfs cannot take a lower directory with a comma in its path: the root is copied.
    const odd = await makeBusyboxRootfs(join(dir, 'snap,odd', 'rootfs'));
    const oddBefore = await treeListing(odd);
    const { options, image, command } = parseRunArgs([
      '--network',
      'none',
      'img',
      'sh',
      '-c',
      'echo x > /bin/new; cat /etc/hostname',
    ]);
    const copied = await runContainer(
      layout,
      { rootfs: odd, imageConfig: busyboxConfig(), imageRef: image, options, command },
      { stdout: collector(), stderr: collector(), env: {} },
    );
    started.push(copied.id);
    assert.equal(copied.exitCode, 0);
    assert.equal((await loadContainer(layout, copied.id))?.rootfsKind, 'copy');
    assert.deepEqual(await treeListing(odd), oddBefore);
    await removeContainer(layout, copied.id);
  });

  it('ps -a lists containers with Docker-like status; prune and rm -f clean everything', async () => {
    const idle = await run(['-d', '--name', 'idle', '-p', `${await freePort()}:80`, 'img', 'sleep', '30']);
    const done = await run(['--name', 'done', '--network', 'none', 'img', 'true']);
    const running = await listContainers(layout);
    assert.ok(running.some((row) => row.name === 'idle') && !running.some((row) => row.name === 'done'));
    const all = await listContainers(layout, { all: true });
    const table = formatContainerTable(all, Date.now());
    assert.match(table, /^CONTAINER ID +IMAGE +COMMAND +CREATED +STATUS +PORTS +NAMES$/m);
    assert.match(
      table,
      new RegExp(`^${idle.id.slice(0, 12)} +img +"sleep 30" +.* ago +Up .*->80/tcp +idle$`, 'm'),
    );
    assert.match(
      table,
      new RegExp(`^${done.id.slice(0, 12)} +img +"true" +.* Exited \\(0\\) .* ago +done$`, 'm'),
    );
    await assert.rejects(removeContainer(layout, 'idle'), /is running: stop it first, or use rm -f/);
    const pruned = await pruneContainers(layout);
    assert.ok(pruned.includes(done.id) && !pruned.includes(idle.id));
    assert.equal((await loadContainer(layout, idle.id))?.name, 'idle');
    await removeContainer(layout, 'idle', { force: true });
    await removeAllContainers(layout);
    await assertNothingLeft(layout, started);
  });
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function httpGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { timeout: 2000 }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on('end', () =>
        res.statusCode === 200 ? resolve(body) : reject(new Error(`HTTP ${res.statusCode}`)),
      );
    });
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}

async function retry<T>(attempt: () => Promise<T>, tries = 40): Promise<T> {
  for (let n = 1; ; n += 1) {
    try {
      return await attempt();
    } catch (error) {
      if (n >= tries) throw error;
      await delay(50);
    }
  }
}

/** Every path under `dir` with its type, mode, size and mtime, sorted. */
async function treeListing(dir: string): Promise<string[]> {
  const lines: string[] = [];
  const walk = async (path: string) => {
    for (const entry of await readdir(path, { withFileTypes: true })) {
      const full = join(path, entry.name);
      const info = await stat(full).catch(() => undefined);
      lines.push(
        `${full} ${entry.isDirectory() ? 'd' : entry.isSymbolicLink() ? 'l' : 'f'} ${info?.mode} ${info?.size} ${info?.mtimeMs}`,
      );
      if (entry.isDirectory()) await walk(full);
    }
  };
  await walk(dir);
  return lines.sort();
}
