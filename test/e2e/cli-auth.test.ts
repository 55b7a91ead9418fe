/** The account commands of the `berth` command line, run as a user runs them. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parsePolicy } from '../../src/auth/policy.js';
import { verifyPassword } from '../../src/auth/secrets.js';
import { removeDir, tempDir } from '../helpers/tmp.js';
import { BERTH_BIN } from './helpers/berth-process.js';
import type { RunResult } from './helpers/run.js';

const cleanEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' };

/** Runs `berth args` with `input` on its standard input. */
function berth(args: string[], input: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(BERTH_BIN, args, { env: cleanEnv, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => {
      stdout += data.toString();
    });
    child.stderr.on('data', (data: Buffer) => {
      stderr += data.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

describe('berth user and token commands', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir('berth-cli-auth-');
  });
  after(() => removeDir(dir));

  it('user add --password-stdin writes a policy file the server accepts', async () => {
    const file = path.join(dir, 'auth', 'policy.yml');
    const result = await berth(
      ['user', 'add', 'alice', '--policy', file, '--password-stdin'],
      's3cret-pass\n',
    );
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /added user alice/);
    const policy = parsePolicy(await readFile(file, 'utf8'), file);
    assert.equal(await verifyPassword('s3cret-pass', policy.users.get('alice')?.password), true);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const again = await berth(
      ['user', 'add', 'alice', '--policy', file, '--password-stdin'],
      's3cret-pass\n',
    );
    assert.equal(again.code, 1);
    assert.match(again.stderr, /^berth: user alice already exists/);
  });

  it('token inspect refuses junk with a clear message and exit 1', async () => {
    const result = await berth(['token', 'inspect', 'not-a-token'], '');
    assert.equal(result.code, 1);
    assert.equal(result.stdout, '');
    assert.match(result.stderr, /^berth: not a JWT: expected three parts separated by "\.", found 1\n$/);
  });
});
