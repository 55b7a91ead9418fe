/** The account commands of the `berth` command line, run as a user runs them. */
import assert from 'node:assert/strict';
import { chmod, chown, mkdir, readFile, stat } from 'node:fs/promises';
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

  it('a root edit keeps the owner and mode of a policy file the server reads as another user', async () => {
    const nobody = 65534;
    const auth = path.join(dir, 'owned');
    const file = path.join(auth, 'policy.yml');
    assert.equal(
      (await berth(['user', 'add', 'alice', '--policy', file, '--password-stdin'], 'alice-pass-1\n')).code,
      0,
    );
    // The server's user must reach its files; the file itself stays theirs alone.
    await chmod(dir, 0o755);
    await chmod(auth, 0o755);
    await chown(file, nobody, nobody);
    const root = path.join(dir, 'owned-data');
    await mkdir(root);
    await chown(root, nobody, nobody);
    const server = await startBerthProcess({
      env: {
        BERTH_AUTH_MODE: 'token',
        BERTH_AUTH_POLICY: file,
        BERTH_AUTH_TOKEN_SIGNINGKEY: path.join(root, 'key.pem'),
      },
      root,
      uid: nobody,
    });
    try {
      const added = await berth(
        ['user', 'add', 'bob', '--policy', file, '--password-stdin'],
        'bob-pass-22\n',
      );
      assert.equal(added.code, 0, added.stderr);
      const after = await stat(file);
      assert.deepEqual([after.uid, after.gid, after.mode & 0o7777], [nobody, nobody, 0o600]);
      const login = () =>
        fetch(`${server.url}/auth/token?service=berth`, {
          headers: { Authorization: `Basic ${Buffer.from('bob:bob-pass-22').toString('base64')}` },
        });
      await waitFor(async () => (await login()).status === 200, 10_000);
      assert.ok(!server.logs.some((line) => line.includes('EACCES')), server.logs.join('\n'));
    } finally {
      await server.stop();
    }
  });

  it('berth commands run at the same time all land in the policy file', async () => {
    const file = path.join(dir, 'parallel', 'policy.yml');
    assert.equal(
      (await berth(['user', 'add', 'alice', '--policy', file, '--password-stdin'], 'alice-pass-1\n')).code,
      0,
    );
    const names = ['r1', 'r2', 'r3', 'r4', 'r5'];
    const results = await Promise.all([
      ...names.map((name) =>
        berth(['robot', 'add', name, '--scope', 'repository:ci/*:pull', '--policy', file], ''),
      ),
      berth(['team', 'add', 'dev', '--member', 'alice', '--policy', file], ''),
    ]);
    for (const result of results) assert.equal(result.code, 0, result.stderr);
    const policy = parsePolicy(await readFile(file, 'utf8'), file);
    assert.deepEqual([...policy.robots.keys()].sort(), names);
    assert.deepEqual(policy.teams.get('dev'), ['alice']);
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
