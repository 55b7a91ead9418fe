/** The account commands of the `berth` command line, run as a user runs them. */
import assert from 'node:assert/strict';
import { readFile, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parsePolicy } from '../../src/auth/policy.js';
import { verifyPassword } from '../../src/auth/secrets.js';
import { removeDir, tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { BERTH_BIN, startBerthProcess } from './helpers/berth-process.js';
import { type RunResult, run } from './helpers/run.js';

const cleanEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' };

/** Runs `berth args` with `input` on its standard input. */
function berth(args: string[], input: string): Promise<RunResult> {
  return run(BERTH_BIN, args, { env: cleanEnv, input });
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

  it('SIGHUP makes berth serve reload the policy instead of ending it', async () => {
    const file = path.join(dir, 'hup', 'policy.yml');
    assert.equal(
      (await berth(['user', 'add', 'carol', '--policy', file, '--password-stdin'], 'carol-pass-1\n')).code,
      0,
    );
    const server = await startBerthProcess({
      env: {
        BERTH_AUTH_MODE: 'token',
        BERTH_AUTH_POLICY: file,
        BERTH_AUTH_TOKEN_SIGNINGKEY: path.join(dir, 'hup', 'key.pem'),
      },
    });
    try {
      const login = () =>
        fetch(`${server.url}/auth/token?service=berth`, {
          headers: { Authorization: `Basic ${Buffer.from('carol:carol-pass-1').toString('base64')}` },
        });
      assert.equal((await login()).status, 200);
      server.child.kill('SIGHUP');
      await waitFor(() => server.logs.some((line) => line.includes('auth policy reloaded')));
      assert.ok(server.logs.some((line) => line.includes('SIGHUP: reloading the auth policy')));
      assert.equal(server.child.exitCode, null, 'still running');
      assert.equal((await login()).status, 200);
    } finally {
      await server.close();
    }
  });
});
