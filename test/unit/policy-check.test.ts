/** How a policy file is judged, read while it may be changing, and locked for editing. */
import assert from 'node:assert/strict';
import { appendFile, readdir, readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PolicyError } from '../../src/auth/policy.js';
import { checkPolicy } from '../../src/auth/policy-check.js';
import { loadAuthFiles } from '../../src/auth/policy-source.js';
import { POLICY_SKELETON } from '../../src/cli/policy-file.js';
import { withLockFile } from '../../src/fs/lock-file.js';
import { readStableFile } from '../../src/fs/stable-file.js';
import { quickHash } from '../helpers/auth.js';
import { removeDir, tempDir } from '../helpers/tmp.js';

const HASH = '$2b$12$abcdefghijklmnopqrstuuE8vZ0hfvN9l3uXUwTq2p5o1hK0rZ/hi';

describe('checkPolicy', () => {
  it('refuses an empty policy: an empty file, comments only, {} and the empty skeleton', () => {
    for (const text of [
      '',
      '   \n',
      '# nothing yet\n',
      '{}\n',
      'users: {}\nrepositories: []\n',
      POLICY_SKELETON,
    ])
      assert.throws(
        () => checkPolicy(text, 'p.yml'),
        (err: Error) => err instanceof PolicyError && /^p\.yml: the policy is empty/.test(err.message),
        JSON.stringify(text),
      );
  });

  it('accepts a policy with only a user, only a robot or only a rule', () => {
    const robot = `robots:\n  ci: { secret: "sha256:${'a'.repeat(64)}", scopes: ["repository:ci/*:pull"] }\n`;
    for (const text of [
      `users:\n  a: { password: "${HASH}" }\n`,
      robot,
      'repositories:\n  - match: "p/**"\n',
    ])
      assert.equal(checkPolicy(text, 'p.yml').warnings.length, 0);
  });

  it('refuses a misspelt action and a rule naming an undefined team, naming the entry', () => {
    const users = `users:\n  bob: { password: "${HASH}" }\nteams:\n  dev: [bob]\n`;
    assert.throws(
      () =>
        checkPolicy(`${users}repositories:\n  - match: "a/**"\n    teams: { dev: [pull, psuh] }\n`, 'p.yml'),
      /^PolicyError: p\.yml: repositories\[0\]\.teams\.dev: unknown action "psuh"/,
    );
    assert.throws(
      () => checkPolicy(`${users}repositories:\n  - match: "a/**"\n    teams: { devs: [pull] }\n`, 'p.yml'),
      /^PolicyError: p\.yml: repositories\[0\]\.teams\.devs: no team devs under teams \(defined: dev\); add it with berth team add devs$/,
    );
  });

  it('warns about team members and rule users who are not users, unless the htpasswd file has them', () => {
    const text = `users:\n  bob: { password: "${HASH}" }\nteams:\n  dev: [bob, carol]\nrepositories:\n  - match: "a/**"\n    users: { dave: [pull] }\n`;
    assert.deepEqual(checkPolicy(text, 'p.yml').warnings, [
      'p.yml: teams.dev: carol is not a user of this file',
      'p.yml: repositories[0].users.dave: dave is not a user of this file',
    ]);
    assert.deepEqual(checkPolicy(text, 'p.yml', new Set(['carol'])).warnings, [
      'p.yml: repositories[0].users.dave: dave is not a user of this file or the htpasswd file',
    ]);
  });
});

describe('loadAuthFiles (start-up, reload and config check)', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir('berth-policy-check-');
  });
  after(() => removeDir(dir));

  it('refuses a missing file, an empty policy and an empty htpasswd file', async () => {
    const policy = join(dir, 'policy.yml');
    await assert.rejects(
      loadAuthFiles({ policy, htpasswd: undefined }),
      /^Error: cannot read .*policy\.yml: ENOENT/,
    );
    await writeFile(policy, '');
    await assert.rejects(loadAuthFiles({ policy, htpasswd: undefined }), /policy\.yml: the policy is empty/);
    const htpasswd = join(dir, 'htpasswd');
    await writeFile(htpasswd, '# nobody\n');
    await assert.rejects(
      loadAuthFiles({ policy: undefined, htpasswd }),
      /htpasswd: no users; an empty htpasswd/,
    );
  });

  it('passes htpasswd users to the policy check, so members from there are no warning', async () => {
    const policy = join(dir, 'teams.yml');
    const htpasswd = join(dir, 'users.htpasswd');
    await writeFile(policy, `users:\n  bob: { password: "${HASH}" }\nteams:\n  dev: [bob, carol]\n`);
    await writeFile(htpasswd, `carol:${await quickHash('carol-password')}\n`);
    assert.deepEqual((await loadAuthFiles({ policy, htpasswd })).warnings, []);
    assert.equal((await loadAuthFiles({ policy, htpasswd: undefined })).warnings.length, 1);
  });
});

describe('readStableFile', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir('berth-stable-');
  });
  after(() => removeDir(dir));

  it('reads a file only after a quiet period in which it did not change', async () => {
    const file = join(dir, 'growing');
    await writeFile(file, 'users:');
    let waits = 0;
    // The "writer" adds to the file during the first two quiet periods, then stops.
    const sleep = async () => {
      waits++;
      if (waits <= 2) await appendFile(file, ` part${waits}`);
    };
    const text = await readStableFile(file, { quietMs: 1, giveUpMs: 60_000, sleep });
    assert.equal(text, 'users: part1 part2');
    assert.equal(waits, 3);
  });

  it('gives up on a file that never stops changing', async () => {
    const file = join(dir, 'busy');
    await writeFile(file, 'x');
    const sleep = () => appendFile(file, 'x');
    await assert.rejects(readStableFile(file, { quietMs: 1, giveUpMs: 50, sleep }), /busy kept changing/);
  });
});

describe('withLockFile', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir('berth-lock-file-');
  });
  after(() => removeDir(dir));

  it('runs holders one at a time and leaves nothing behind', async () => {
    const lock = join(dir, '.one.lock');
    const order: string[] = [];
    await Promise.all(
      ['a', 'b', 'c'].map((name) =>
        withLockFile(
          lock,
          async () => {
            order.push(`${name}+`);
            await new Promise((resolve) => setTimeout(resolve, 20));
            order.push(`${name}-`);
          },
          { busy: 'busy' },
        ),
      ),
    );
    for (let i = 0; i < order.length; i += 2)
      assert.equal(order[i]?.[0], order[i + 1]?.[0], `no overlap: ${order.join(' ')}`);
    assert.deepEqual(await readdir(dir), []);
  });

  it('takes over the lock of a process that died, and of one that never wrote its pid', async () => {
    const lock = join(dir, '.stale.lock');
    await writeFile(lock, '2147483646 0123456789abcdef');
    assert.equal(await withLockFile(lock, async () => 'taken over', { busy: 'busy' }), 'taken over');
    await writeFile(lock, '');
    const minuteAgo = new Date(Date.now() - 60_000);
    await utimes(lock, minuteAgo, minuteAgo);
    assert.equal(await withLockFile(lock, async () => 'again', { busy: 'busy' }), 'again');
    assert.deepEqual(await readdir(dir), []);
  });

  it('a lock from another host is taken over only once older than staleAfterMs, as is a frozen holder', async () => {
    const lock = join(dir, '.elsewhere.lock');
    await writeFile(lock, '2147483646 0123456789abcdef some-other-host');
    await assert.rejects(
      withLockFile(lock, async () => 'never', { busy: 'busy', giveUpMs: 100, staleAfterMs: 60_000 }),
      /busy/,
      'a pid on another host says nothing about the holder',
    );
    const minuteAgo = new Date(Date.now() - 60_000);
    await utimes(lock, minuteAgo, minuteAgo);
    assert.equal(
      await withLockFile(lock, async () => 'taken', { busy: 'busy', staleAfterMs: 30_000 }),
      'taken',
    );
    await writeFile(lock, `${process.pid} frozen`);
    await utimes(lock, minuteAgo, minuteAgo);
    assert.equal(
      await withLockFile(lock, async () => 'again', { busy: 'busy', staleAfterMs: 30_000 }),
      'again',
    );
    assert.deepEqual(await readdir(dir), []);
  });

  it('gives up on a live holder after giveUpMs, naming the lock file', async () => {
    const lock = join(dir, '.held.lock');
    await writeFile(lock, `${process.pid} someone-else`);
    await assert.rejects(
      withLockFile(lock, async () => 'never', { busy: 'someone is editing', giveUpMs: 100 }),
      /^Error: someone is editing \(.*\.held\.lock\)$/,
    );
    assert.equal(await readFile(lock, 'utf8'), `${process.pid} someone-else`, 'the holder keeps its lock');
  });
});
