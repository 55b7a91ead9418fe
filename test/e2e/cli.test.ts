/** The `berth` command line as a user runs it from a checkout. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { removeDir, tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { BERTH_BIN, REPO_ROOT, startBerthProcess } from './helpers/berth-process.js';
import { run } from './helpers/run.js';

const cleanEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' };

describe('berth CLI', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir('berth-cli-');
  });
  after(() => removeDir(dir));

  it('--version prints the package version and --help lists the commands', async () => {
    const { version } = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8'));
    const versionRun = await run(BERTH_BIN, ['--version'], { env: cleanEnv });
    assert.equal(versionRun.code, 0);
    assert.equal(versionRun.stdout.trim(), `berth ${version}`);
    const help = await run(BERTH_BIN, ['--help'], { env: cleanEnv });
    assert.equal(help.code, 0);
    assert.match(help.stdout, /serve \[--config FILE\]/);
    assert.match(help.stdout, /config check FILE/);
    const unknown = await run(BERTH_BIN, ['frobnicate'], { env: cleanEnv });
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
  });

  it('--help of serve, config check and agent exits 0 with the usage on stdout', async () => {
    for (const args of [
      ['serve', '--help'],
      ['config', 'check', '-h'],
      ['agent', '--help'],
      ['help', 'team'],
    ]) {
      const result = await run(BERTH_BIN, args, { env: cleanEnv });
      assert.equal(result.code, 0, `berth ${args.join(' ')}: ${result.stderr}`);
      assert.equal(result.stderr, '');
      assert.match(result.stdout, new RegExp(`^Usage: berth ${args[0] === 'help' ? args[1] : args[0]}`));
    }
    const typo = await run(BERTH_BIN, ['sevre'], { env: cleanEnv });
    assert.equal(typo.code, 1);
    assert.match(
      typo.stderr,
      /^berth: unknown command "sevre" \(did you mean serve\?\)\n\nUsage: berth <command>/,
    );
  });

  it('config check accepts a valid file and names the bad key of an invalid one', async () => {
    const good = path.join(dir, 'good.yml');
    await writeFile(good, 'http:\n  addr: 127.0.0.1:5001\nstorage:\n  delete:\n    enabled: false\n');
    const ok = await run(BERTH_BIN, ['config', 'check', good], { env: cleanEnv });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /configuration is valid/);
    const bad = path.join(dir, 'bad.yml');
    await writeFile(bad, 'storage:\n  delete:\n    enabled: sometimes\n');
    const refused = await run(BERTH_BIN, ['config', 'check', bad], { env: cleanEnv });
    assert.equal(refused.code, 2);
    assert.match(
      refused.stderr,
      /bad\.yml: storage\.delete\.enabled: expected true or false, got "sometimes"/,
    );
    const usage = await run(BERTH_BIN, ['config', 'check'], { env: cleanEnv });
    assert.equal(usage.code, 1, 'a usage error, not a bad configuration');
    assert.match(usage.stderr, /Usage: berth config check FILE/);
  });

  it('serve refuses a bad environment override with a message naming the variable', async () => {
    const result = await run(BERTH_BIN, ['serve'], { env: { ...cleanEnv, BERTH_HTTP_ADDR: 'nowhere' } });
    assert.equal(result.code, 2);
    assert.match(result.stderr, /BERTH_HTTP_ADDR \(http\.addr\): expected host:port/);
    assert.doesNotMatch(result.stderr, /at .*\.js/, 'no stack trace');
  });

  it('serve with a config file prints one line saying where it listens and where data lives', async () => {
    const config = path.join(dir, 'serve.yml');
    await writeFile(
      config,
      `http:\n  addr: 127.0.0.1:0\nstorage:\n  filesystem:\n    rootdirectory: ${dir}/store\n`,
    );
    const child = spawn(BERTH_BIN, ['serve', '--config', config], { env: cleanEnv, cwd: dir });
    const line = await new Promise<string>((resolve) =>
      child.stdout.once('data', (data: Buffer) => resolve(data.toString())),
    );
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    assert.match(line, /listening on http:\/\/127\.0\.0\.1:\d+, storing data in .*\/store \(filesystem\)/);
    assert.ok((await stat(path.join(dir, 'store'))).isDirectory());
  });

  it('defaults to ./data under the working directory', async () => {
    const cwd = await tempDir('berth-cwd-');
    try {
      const child = spawn(BERTH_BIN, ['serve'], {
        env: { ...cleanEnv, BERTH_HTTP_ADDR: '127.0.0.1:0' },
        cwd,
      });
      const line = await new Promise<string>((resolve) =>
        child.stdout.once('data', (data: Buffer) => resolve(data.toString())),
      );
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
      assert.match(line, new RegExp(`storing data in ${cwd}/data`));
      assert.ok((await stat(path.join(cwd, 'data'))).isDirectory());
    } finally {
      await removeDir(cwd);
    }
  });

  it('SIGTERM lets an in-flight upload finish, then exits 0', async () => {
    const berth = await startBerthProcess();
    try {
      const started = await fetch(`${berth.url}/v2/drain/me/blobs/uploads/`, { method: 'POST' });
      const location = `${berth.url}${started.headers.get('location')}`;
      const total = 8 * 1024 * 1024;
      const status = new Promise<number>((resolve, reject) => {
        const req = request(location, { method: 'PATCH', headers: { 'Content-Length': String(total) } });
        req.on('error', reject);
        req.on('response', (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.write(Buffer.alloc(total / 2));
        setTimeout(() => {
          berth.child.kill('SIGTERM');
          setTimeout(() => req.end(Buffer.alloc(total / 2)), 300);
        }, 200);
      });
      assert.equal(await status, 202, 'the upload in flight completed');
      assert.equal(await berth.exited(), 0, 'the first SIGTERM ends the process cleanly once drained');
      assert.ok(berth.logs.some((line) => line.includes('shutting down')));
    } finally {
      await berth.close();
    }
  });
  it('a second SIGTERM while draining exits 143 at once, also as PID 1 would need', async () => {
    const berth = await startBerthProcess();
    try {
      const started = await fetch(`${berth.url}/v2/drain/twice/blobs/uploads/`, { method: 'POST' });
      const req = request(`${berth.url}${started.headers.get('location')}`, {
        method: 'PATCH',
        headers: { 'Content-Length': String(1024 * 1024) },
      });
      req.on('error', () => {});
      req.write(Buffer.alloc(1024));
      await waitFor(async () =>
        /berth_uploads_in_progress 1/.test(await (await fetch(`${berth.url}/metrics`)).text()),
      );
      berth.child.kill('SIGTERM');
      await waitFor(() => berth.logs.some((line) => line.includes('shutting down')));
      berth.child.kill('SIGTERM');
      // An explicit exit, not death by the signal: as PID 1 the kernel would drop the signal.
      assert.equal(await berth.exited(), 143);
      assert.ok(berth.logs.some((line) => line.includes('second signal')));
      req.destroy();
    } finally {
      await berth.close();
    }
  });
});
