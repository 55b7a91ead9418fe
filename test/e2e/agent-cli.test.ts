/**
 * `berth agent` as a user runs it: a busybox image built by the test is pushed with skopeo into
 * a real Berth with token auth, then pulled, run, listed, logged, stopped, removed and pruned
 * through `./bin/berth agent` processes.
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { agentLayout } from '../../src/agent/layout.js';
import { quickHash, writePolicy } from '../helpers/auth.js';
import { removeDir, tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { cleanUpAgentRoot } from './helpers/agent-rootfs.js';
import { BERTH_BIN, type BerthProcess, startBerthProcess } from './helpers/berth-process.js';
import { busyboxLayout } from './helpers/busybox-image.js';
import { type RunResult, run, runOk } from './helpers/run.js';

const PASSWORD = 'alice-password';

describe('berth agent command line against a Berth with token auth', () => {
  let dir: string;
  let berth: BerthProcess;
  let root: string;
  const ids: string[] = [];
  const env = () => ({ PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir });
  const agent = (args: string[], input?: string): Promise<RunResult> =>
    run(BERTH_BIN, ['agent', '--root', root, ...args], {
      env: env(),
      ...(input === undefined ? {} : { input }),
    });
  const image = (name: string) => `${berth.host}/${name}`;

  before(async () => {
    dir = await tempDir('berth-agent-cli-');
    root = join(dir, 'agent');
    const policy = await writePolicy(
      dir,
      `users:
  alice: { password: "${await quickHash(PASSWORD)}" }
repositories:
  - match: "public/**"
    anonymous: [pull]
    users: { alice: [pull, push] }
  - match: "apps/**"
    users: { alice: [pull, push] }
`,
    );
    berth = await startBerthProcess({
      env: {
        BERTH_AUTH_MODE: 'token',
        BERTH_AUTH_POLICY: policy,
        BERTH_AUTH_TOKEN_SIGNINGKEY: join(dir, 'key.pem'),
      },
    });
    const layout = await busyboxLayout(join(dir, 'image'), 'v1', {
      Cmd: ['echo', 'hello from the image'],
      Env: ['PATH=/bin', 'GREETING=hi'],
    });
    for (const target of ['public/busybox:1', 'apps/busybox:1', 'public/busybox:2']) {
      await runOk('skopeo', [
        'copy',
        '--quiet',
        '--dest-tls-verify=false',
        '--dest-creds',
        `alice:${PASSWORD}`,
        layout,
        `docker://${image(target)}`,
      ]);
    }
  });

  after(async () => {
    try {
      await cleanUpAgentRoot(root, ids);
    } finally {
      await berth?.close();
      await removeDir(dir);
    }
  });

  it('pulls a public image anonymously, lists and inspects it', async () => {
    const pulled = await agent(['pull', image('public/busybox:1')]);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.match(pulled.stdout, new RegExp(`^${image('public/busybox:1')}@sha256:[0-9a-f]{64}\\n$`));
    assert.match(pulled.stderr, /pulled .* image ID [0-9a-f]{12}/);
    const images = await agent(['images']);
    assert.match(images.stdout, /public\/busybox\s+1\s+[0-9a-f]{12}/);
    const inspected = JSON.parse((await agent(['inspect', image('public/busybox:1')])).stdout);
    assert.deepEqual(inspected.config.config.Cmd, ['echo', 'hello from the image']);
  });

  it('a private image needs a login; a wrong password is refused and nothing is saved', async () => {
    const refused = await agent(['pull', image('apps/busybox:1')]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^berth: pull .*apps\/busybox:1: .*(denied|unauthorized|insufficient)/i);
    const wrong = await agent(['login', '--username', 'alice', '--password-stdin', berth.host], 'nope\n');
    assert.equal(wrong.code, 1);
    assert.match(wrong.stderr, /login to .* failed: .*(incorrect|unauthorized|denied)/i);
    const saved = await readFile(agentLayout(root).credentials, 'utf8').catch(() => '');
    assert.doesNotMatch(saved, /alice/, 'a refused login saves nothing');
    const login = await agent(
      ['login', '--username', 'alice', '--password-stdin', berth.host],
      `${PASSWORD}\n`,
    );
    assert.equal(login.code, 0, login.stderr);
    const pulled = await agent(['pull', image('apps/busybox:1')]);
    assert.equal(pulled.code, 0, pulled.stderr);
    assert.equal((await agent(['logout', berth.host])).code, 0);
  });

  it('runs in the foreground with the image command, exit codes and separate streams', async () => {
    const greeting = await agent(['run', '--rm', '--network', 'none', image('public/busybox:1')]);
    assert.equal(greeting.code, 0, greeting.stderr);
    assert.equal(greeting.stdout, 'hello from the image\n');
    const failing = await agent([
      'run',
      '--rm',
      '--network',
      'none',
      image('public/busybox:1'),
      'sh',
      '-c',
      'echo "out $GREETING"; echo err >&2; exit 42',
    ]);
    assert.equal(failing.code, 42);
    assert.equal(failing.stdout, 'out hi\n');
    assert.equal(failing.stderr, 'err\n');
  });

  it('pulls on run when the image is missing', async () => {
    const result = await agent(['run', '--rm', '--network', 'none', image('public/busybox:2'), 'true']);
    assert.equal(result.code, 0, result.stderr);
    // The same content as tag 1: only the manifest is new, the blobs are already there.
    assert.match(result.stderr, /pulling .*public\/busybox:2/);
    assert.match(result.stderr, /already present/);
  });

  it('detached containers: ps, logs, stop after the timeout, rm', async () => {
    const started = await agent([
      'run',
      '-d',
      '--name',
      'stubborn',
      '--network',
      'none',
      image('public/busybox:1'),
      'sh',
      '-c',
      "trap '' TERM; echo started; while true; do sleep 1; done",
    ]);
    assert.equal(started.code, 0, started.stderr);
    const id = started.stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    ids.push(id);
    assert.match((await agent(['ps'])).stdout, /stubborn/);
    await waitFor(async () => (await agent(['logs', 'stubborn'])).stdout === 'started\n', 10_000);
    const stopped = await agent(['stop', '-t', '1', 'stubborn']);
    assert.equal(stopped.code, 0, stopped.stderr);
    const listed = (await agent(['ps', '-a'])).stdout;
    assert.match(listed, /Exited \(137\).*stubborn/);
    assert.doesNotMatch((await agent(['ps'])).stdout, /stubborn/);
    assert.equal((await agent(['rm', 'stubborn'])).code, 0);
    assert.equal((await agent(['logs', 'stubborn'])).code, 1);
  });

  it('run options through the command line: user, capabilities, volumes, ports, memory', async () => {
    const img = image('public/busybox:1');
    const sh = (options: string[], script: string) =>
      agent(['run', '--rm', '--network', 'none', ...options, img, 'sh', '-c', script]);
    const user = await sh(['--user', '1000:1000'], 'id -u; id -g');
    assert.equal(user.stdout, '1000\n1000\n', user.stderr);
    const caps = await sh(['--cap-drop', 'ALL', '--cap-add', 'NET_ADMIN'], 'grep CapEff /proc/self/status');
    assert.match(caps.stdout, /CapEff:\s+0000000000001000/, 'only NET_ADMIN (bit 12)');
    const hostDir = join(dir, 'host-dir');
    await mkdir(hostDir, { recursive: true });
    const readOnly = await sh(['-v', `${hostDir}:/data:ro`], 'touch /data/x');
    assert.notEqual(readOnly.code, 0);
    assert.match(readOnly.stderr, /Read-only file system/);
    assert.equal((await sh(['-v', 'keep:/data'], 'echo kept > /data/f')).code, 0);
    assert.equal((await sh(['-v', 'keep:/data'], 'cat /data/f')).stdout, 'kept\n');
    const hog = await sh(['--memory', '16m'], 'dd if=/dev/zero bs=1M count=64 | tail -c 64m > /dev/null');
    assert.equal(hog.code, 137);
    const port = 18000 + Math.floor(Math.random() * 1000);
    const web = await agent([
      'run',
      '-d',
      '--name',
      'web',
      '-p',
      `${port}:8080`,
      img,
      'sh',
      '-c',
      'echo served > /www/index.html && httpd -f -p 8080 -h /www',
    ]);
    assert.equal(web.code, 0, web.stderr);
    ids.push(web.stdout.trim());
    let body = '';
    await waitFor(async () => {
      // Bounded: a connection the proxy took before httpd listened must not hang the test.
      body = await fetch(`http://127.0.0.1:${port}/index.html`, { signal: AbortSignal.timeout(2000) })
        .then((res) => res.text())
        .catch(() => '');
      return body === 'served\n';
    }, 10_000);
    assert.equal((await agent(['rm', '-f', 'web'])).code, 0);
    assert.equal((await agent(['volume', 'rm', 'keep'])).code, 0);
  });

  it('containers started at the same moment get distinct addresses, and a name only once', async () => {
    const runs = await Promise.all(
      [1, 2, 3, 4].map(() =>
        agent([
          'run',
          '--rm',
          image('public/busybox:1'),
          'sh',
          '-c',
          'grep -v localhost /etc/hosts; sleep 1',
        ]),
      ),
    );
    for (const result of runs) assert.equal(result.code, 0, result.stderr);
    const addresses = runs.map((result) => /^(10\.231\.\d+\.\d+)\s/m.exec(result.stdout)?.[1]);
    assert.ok(
      addresses.every((address) => address !== undefined),
      JSON.stringify(runs.map((r) => r.stdout)),
    );
    assert.equal(new Set(addresses).size, 4, `distinct addresses: ${addresses.join(' ')}`);

    const named = await Promise.all(
      [1, 2, 3, 4].map(() =>
        agent([
          'run',
          '-d',
          '--name',
          'only-one',
          '--network',
          'none',
          image('public/busybox:1'),
          'sleep',
          '30',
        ]),
      ),
    );
    const started = named.filter((result) => result.code === 0);
    assert.equal(started.length, 1, named.map((result) => result.stderr).join(''));
    for (const result of named.filter((r) => r.code !== 0))
      assert.match(result.stderr, /only-one is already in use/);
    ids.push(...started.map((result) => result.stdout.trim()));
    assert.equal((await agent(['rm', '-f', 'only-one'])).code, 0);
  });

  it('prune removes stopped containers, unused images and their blobs', async () => {
    await agent(['run', '--network', 'none', image('public/busybox:1'), 'true']);
    const pruned = await agent(['prune']);
    assert.equal(pruned.code, 0, pruned.stderr);
    assert.match(pruned.stdout, /removed 1 containers, 3 images/);
    assert.doesNotMatch((await agent(['images'])).stdout, /busybox/);
    assert.deepEqual(await readdir(agentLayout(root).blobs), []);
  });
});
