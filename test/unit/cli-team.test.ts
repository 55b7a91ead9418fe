/** `berth team`, `berth user ls`, and policy edits that run at the same time. */
import assert from 'node:assert/strict';
import { chmod, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PolicyError, parsePolicy } from '../../src/auth/policy.js';
import { CliError } from '../../src/cli/io.js';
import { robotCommand } from '../../src/cli/robot.js';
import { teamCommand } from '../../src/cli/team.js';
import { userCommand } from '../../src/cli/user.js';
import { withLockFile } from '../../src/fs/lock-file.js';
import { fakeIo } from '../helpers/cli.js';
import { removeDir, tempDir } from '../helpers/tmp.js';

const HASH = '$2b$12$abcdefghijklmnopqrstuuE8vZ0hfvN9l3uXUwTq2p5o1hK0rZ/hi';

const POLICY = `users:
  alice: { password: "${HASH}", admin: true }
  bob: { password: "${HASH}" } # builds things
teams:
  ops: [alice] # on call
repositories:
  - match: "ops/**"
    teams: { ops: [pull, push] }
    users: { bob: [pull] }
`;

async function loadPolicy(file: string) {
  return parsePolicy(await readFile(file, 'utf8'), file);
}

describe('berth team', () => {
  let dir: string;
  let file: string;
  const team = async (...args: string[]) => {
    const io = fakeIo();
    const code = await teamCommand([...args, '--policy', file], io.io);
    return { code, stdout: io.stdout(), stderr: io.stderr() };
  };
  before(async () => {
    dir = await tempDir('berth-cli-team-');
    file = path.join(dir, 'policy.yml');
    await writeFile(file, POLICY, { mode: 0o600 });
  });
  after(() => removeDir(dir));

  it('team add creates a team with members, keeping comments, and refuses a duplicate', async () => {
    const added = await team('add', 'dev', '--member', 'bob', '--member', 'alice');
    assert.equal(added.code, 0);
    assert.match(added.stdout, /^added team dev \(bob, alice\) to .*policy\.yml\n$/);
    assert.deepEqual((await loadPolicy(file)).teams.get('dev'), ['bob', 'alice']);
    const text = await readFile(file, 'utf8');
    assert.match(text, /^ {2}dev: \[ bob, alice \]$/m);
    assert.match(text, /# builds things/);
    assert.match(text, /# on call/);
    await assert.rejects(
      team('add', 'dev'),
      (err: Error) => err instanceof CliError && /team dev already exists/.test(err.message),
    );
  });

  it('team members lists, adds and removes, refusing what makes no sense', async () => {
    assert.equal((await team('members', 'dev')).stdout, 'bob\nalice\n');
    assert.equal((await team('members', 'dev', '--rm', 'alice', '--add', 'carol')).code, 0);
    assert.deepEqual((await loadPolicy(file)).teams.get('dev'), ['bob', 'carol']);
    await assert.rejects(team('members', 'dev', '--add', 'bob'), /bob is already a member of team dev/);
    await assert.rejects(team('members', 'dev', '--rm', 'alice'), /alice is not a member of team dev/);
    await assert.rejects(team('members', 'nope'), /no team nope/);
    await assert.rejects(
      team('members', 'nope', '--add', 'bob'),
      /no team nope in .*; add it with berth team add nope/,
    );
    await assert.rejects(team('members', 'dev', '--add', 'Bad!'), /invalid user name "Bad!"/);
  });

  it('warns when a member is not a user of the file', async () => {
    const result = await team('add', 'qa', '--member', 'zoe');
    assert.equal(result.code, 0);
    assert.match(result.stderr, /^warning: .*policy\.yml: teams\.qa: zoe is not a user of this file$/m);
  });

  it('team ls and user ls list teams, members, admins and team memberships', async () => {
    assert.equal((await team('ls')).stdout, 'NAME  MEMBERS\nops   alice\ndev   bob,carol\nqa    zoe\n');
    const users = fakeIo();
    await userCommand(['ls', '--policy', file], users.io);
    assert.equal(users.stdout(), 'NAME   ADMIN  TEAMS\nalice  yes    ops\nbob    no     dev\n');
  });

  it('team rm removes the team from every rule too', async () => {
    assert.equal((await team('rm', 'ops')).code, 0);
    const policy = await loadPolicy(file);
    assert.equal(policy.teams.has('ops'), false);
    assert.equal(policy.repositories[0]?.teams.size, 0);
    assert.deepEqual(policy.repositories[0]?.users.get('bob'), ['pull'], 'the rest of the rule stays');
    await assert.rejects(team('rm', 'ops'), /no team ops/);
  });

  it('listings of a missing file are empty; a team alone is refused as an empty policy', async () => {
    const missing = path.join(dir, 'none', 'policy.yml');
    const list = fakeIo();
    await teamCommand(['ls', '--policy', missing], list.io);
    assert.match(list.stdout(), /^no teams in /);
    await assert.rejects(
      teamCommand(['add', 'dev', '--policy', missing], fakeIo().io),
      (err: Error) => err instanceof PolicyError && /the policy is empty/.test(err.message),
    );
    await assert.rejects(stat(missing), { code: 'ENOENT' });
  });
});

describe('policy edits at the same time', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir('berth-cli-lock-');
  });
  after(() => removeDir(dir));

  it('concurrent edits of one file all land', async () => {
    const file = path.join(dir, 'concurrent.yml');
    await writeFile(file, POLICY);
    const names = ['r1', 'r2', 'r3', 'r4', 'r5', 'r6'];
    await Promise.all([
      ...names.map((name) =>
        robotCommand(['add', name, '--scope', 'repository:ci/*:pull', '--policy', file], fakeIo().io),
      ),
      teamCommand(['add', 'dev', '--member', 'bob', '--policy', file], fakeIo().io),
      userCommand(['rm', 'alice', '--policy', file], fakeIo().io),
    ]);
    const policy = await loadPolicy(file);
    assert.deepEqual([...policy.robots.keys()].sort(), names);
    assert.deepEqual(policy.teams.get('dev'), ['bob']);
    assert.equal(policy.users.has('alice'), false);
    assert.deepEqual(await readdir(dir), ['concurrent.yml'], 'no lock or temp file left');
  });

  it('an edit waits for the holder of the lock and then sees its change', async () => {
    const file = path.join(dir, 'held.yml');
    await writeFile(file, POLICY);
    let edit: Promise<number> | undefined;
    // Another berth command: reads, takes its time, writes; all while holding the lock.
    await withLockFile(
      path.join(dir, '.held.yml.lock'),
      async () => {
        const before = await readFile(file, 'utf8');
        edit = robotCommand(['add', 'ci', '--scope', 'repository:ci/*:pull', '--policy', file], fakeIo().io);
        await new Promise((resolve) => setTimeout(resolve, 300));
        await writeFile(file, before.replace('teams:\n', 'teams:\n  held: [bob]\n'));
      },
      { busy: 'busy' },
    );
    assert.equal(await edit, 0);
    const policy = await loadPolicy(file);
    assert.ok(policy.robots.has('ci'), 'the waiting edit landed');
    assert.deepEqual(policy.teams.get('held'), ['bob'], 'and kept the holder`s edit');
  });

  it('takes over a lock left by a command that died', async () => {
    const file = path.join(dir, 'stale.yml');
    await writeFile(file, POLICY);
    await writeFile(path.join(dir, '.stale.yml.lock'), '2147483646 feedfacefeedface');
    assert.equal(await teamCommand(['add', 'dev', '--policy', file], fakeIo().io), 0);
    assert.ok((await loadPolicy(file)).teams.has('dev'));
    assert.equal((await readdir(dir)).includes('.stale.yml.lock'), false);
  });

  it('keeps the mode of the file', async () => {
    const file = path.join(dir, 'mode.yml');
    await writeFile(file, POLICY);
    await chmod(file, 0o640);
    const io = fakeIo();
    await teamCommand(['add', 'dev', '--policy', file], io.io);
    assert.equal((await stat(file)).mode & 0o7777, 0o640);
    assert.equal(io.stderr(), '', 'not readable by everyone: no warning');
  });
});
