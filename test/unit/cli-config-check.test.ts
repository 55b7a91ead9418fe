/** `berth config check` judges the policy and htpasswd files the configuration names. */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { configCommand } from '../../src/cli/config-check.js';
import { ConfigError } from '../../src/config/load.js';
import { fakeIo } from '../helpers/cli.js';
import { removeDir, tempDir } from '../helpers/tmp.js';

const HASH = '$2b$12$abcdefghijklmnopqrstuuE8vZ0hfvN9l3uXUwTq2p5o1hK0rZ/hi';
const GOOD = `users:\n  bob: { password: "${HASH}" }\nteams:\n  dev: [bob]\nrepositories:\n  - match: "a/**"\n    teams: { dev: [pull, push] }\n`;

describe('berth config check with a policy file', () => {
  let dir: string;
  let config: string;
  let policy: string;
  const check = async () => {
    const io = fakeIo();
    const code = await configCommand(['check', config], io.io);
    return { code, stdout: io.stdout() };
  };
  const refusal = (pattern: RegExp) => (err: Error) =>
    err instanceof ConfigError && pattern.test(err.message);
  before(async () => {
    dir = await tempDir('berth-config-check-');
    config = join(dir, 'berth.yml');
    policy = join(dir, 'policy.yml');
    await writeFile(config, `auth:\n  mode: token\n  policy: ${policy}\n`);
  });
  after(() => removeDir(dir));

  it('a missing policy file is an error naming auth.policy', async () => {
    await assert.rejects(check(), refusal(/^auth\.policy: cannot read .*policy\.yml: ENOENT/));
  });

  it('a misspelt action, an undefined team and an empty file are errors', async () => {
    await writeFile(policy, GOOD.replace('push]', 'psuh]'));
    await assert.rejects(
      check(),
      refusal(/^auth\.policy: .*policy\.yml: repositories\[0\]\.teams\.dev: unknown action "psuh"/),
    );
    await writeFile(policy, GOOD.replace('teams: { dev:', 'teams: { devs:'));
    await assert.rejects(check(), refusal(/repositories\[0\]\.teams\.devs: no team devs under teams/));
    await writeFile(policy, '# all gone\n');
    await assert.rejects(check(), refusal(/policy\.yml: the policy is empty/));
  });

  it('a good file passes; a member who is nobody is a warning, not an error', async () => {
    await writeFile(policy, GOOD.replace('dev: [bob]', 'dev: [bob, carol]'));
    const { code, stdout } = await check();
    assert.equal(code, 0);
    assert.match(stdout, /^warning: .*policy\.yml: teams\.dev: carol is not a user of this file$/m);
    assert.match(stdout, /berth\.yml: configuration is valid\n/);
    assert.match(stdout, /policy\.yml: policy is valid\n$/);
  });

  it('without auth the server reads no policy, so none is checked, but the open door is named', async () => {
    const open = join(dir, 'open.yml');
    await writeFile(open, `auth:\n  mode: none\n  policy: ${join(dir, 'missing.yml')}\n`);
    const io = fakeIo();
    assert.equal(await configCommand(['check', open], io.io), 0);
    assert.equal(
      io.stdout(),
      `warning: ${open}: auth.mode is none, so nobody is asked to log in although auth.policy or auth.htpasswd.path names accounts; set auth.mode to basic or token\n${open}: configuration is valid\n`,
    );
  });
});
