/**
 * `berth agent run` exit codes when the container cannot start, by docker's rules: 125 the
 * agent itself failed (bad flag, missing image, unknown user, no command, a port in use),
 * 126 the command cannot be invoked (not executable, a directory, argument list too long),
 * 127 the command does not exist. Real runc, a real Berth and real `./bin/berth` processes.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { removeDir, tempDir } from '../helpers/tmp.js';
import { cleanUpAgentRoot } from './helpers/agent-rootfs.js';
import { BERTH_BIN, type BerthProcess, startBerthProcess } from './helpers/berth-process.js';
import { busyboxLayout } from './helpers/busybox-image.js';
import { type RunResult, run, runOk } from './helpers/run.js';

describe('berth agent run: exit codes of containers that cannot start', () => {
  let dir: string;
  let root: string;
  let berth: BerthProcess;
  let image: string;
  const run125 = (stderr: RegExp) => ({ code: 125, stderr });
  const agent = (args: string[]): Promise<RunResult> =>
    run(BERTH_BIN, ['agent', '--root', root, ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
    });
  const agentRun = (args: string[]) => agent(['run', '--rm', '--network', 'none', ...args]);
  const expectExit = async (args: string[], expected: { code: number; stderr: RegExp }) => {
    const result = await agentRun(args);
    assert.equal(result.code, expected.code, `${args.join(' ')}\n${result.stderr}`);
    assert.match(result.stderr, expected.stderr);
    assert.doesNotMatch(result.stderr, /\n\s+at /, 'no stack trace');
    return result;
  };

  before(async () => {
    dir = await tempDir('berth-agent-exit-');
    root = join(dir, 'agent');
    berth = await startBerthProcess();
    image = `${berth.host}/public/busybox:1`;
    const layout = await busyboxLayout(join(dir, 'image'), 'v1', { Cmd: ['true'] });
    await runOk('skopeo', ['copy', '--quiet', '--dest-tls-verify=false', layout, `docker://${image}`]);
    const pulled = await agent(['pull', image]);
    assert.equal(pulled.code, 0, pulled.stderr);
  });

  after(async () => {
    try {
      await cleanUpAgentRoot(root);
    } finally {
      await berth?.close();
      await removeDir(dir);
    }
  });

  it('a program that runs keeps its own exit code, 1 included', async () => {
    await expectExit([image, 'sh', '-c', 'exit 1'], { code: 1, stderr: /^$/ });
  });

  it('125: an image the registry does not have, or one not present with --pull never', async () => {
    await expectExit([`${berth.host}/public/missing:1`], run125(/public\/missing:1.*(not found|unknown)/i));
    await expectExit(['--pull', 'never', `${berth.host}/public/other:1`], run125(/not present/));
  });

  it('125: a bad flag or a missing IMAGE', async () => {
    await expectExit(['--frobnicate', image], run125(/unknown flag --frobnicate/));
    await expectExit([], run125(/run needs an IMAGE/));
  });

  it('125: a user or group the image does not have', async () => {
    await expectExit(['-u', 'nosuch', image], run125(/unable to find user nosuch/));
    await expectExit(['-u', 'root:nosuch', image], run125(/unable to find group nosuch/));
  });

  it('125: no command (an image without Cmd, --entrypoint "" and no arguments)', async () => {
    await expectExit(['--entrypoint', '', image], run125(/no command/));
  });

  it('125: a published port that is already taken (detached)', async () => {
    const taken = await listenOnLoopback();
    try {
      const port = (taken.address() as { port: number }).port;
      const result = await agent(['run', '-d', '-p', `${port}:80`, image]);
      assert.equal(result.code, 125, result.stderr);
      assert.match(result.stderr, new RegExp(`did not start: .*${port}`));
      assert.equal(result.stdout, '', 'no container id is printed');
    } finally {
      taken.close();
    }
  });

  it('127: a command that does not exist, foreground and detached', async () => {
    await expectExit([image, '/no/such/program'], { code: 127, stderr: /no such file or directory/ });
    const detached = await agent(['run', '-d', '--network', 'none', image, 'nosuchprogram']);
    assert.equal(detached.code, 127, detached.stderr);
    assert.match(detached.stderr, /^berth: .*nosuchprogram.*\n$/);
    assert.equal(detached.stdout, '', 'no container id is printed');
  });

  it('126: a command that is not executable or is a directory', async () => {
    await expectExit([image, '/etc/passwd'], { code: 126, stderr: /permission denied/ });
    await expectExit([image, '/etc'], { code: 126, stderr: /permission denied/ });
  });

  it('126: an argument list too long for the kernel (a 3 MB environment)', async () => {
    const envFile = join(dir, 'huge.env');
    const lines = Array.from({ length: 30_000 }, (_, i) => `V${i}=${'y'.repeat(100)}`);
    await writeFile(envFile, `${lines.join('\n')}\n`);
    await expectExit(['--env-file', envFile, image], { code: 126, stderr: /argument list too long/ });
  });
});

function listenOnLoopback(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}
