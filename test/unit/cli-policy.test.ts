import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { chmod, readFile, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import jwt from 'jsonwebtoken';
import { PolicyError, parsePolicy } from '../../src/auth/policy.js';
import { CATALOG } from '../../src/auth/scopes.js';
import { verifyPassword, verifyRobotSecret } from '../../src/auth/secrets.js';
import { CliError } from '../../src/cli/io.js';
import { parseExpiresIn, robotCommand } from '../../src/cli/robot.js';
import { tokenCommand } from '../../src/cli/token.js';
import { userCommand } from '../../src/cli/user.js';
import { fakeIo, NOW } from '../helpers/cli.js';
import { removeDir, tempDir } from '../helpers/tmp.js';

async function loadPolicy(file: string) {
  return parsePolicy(await readFile(file, 'utf8'), file);
}

const EXISTING = `# Our registry's accounts. Do not remove this line.
users:
  bob: # the build engineer
    password: "$2b$12$abcdefghijklmnopqrstuuE8vZ0hfvN9l3uXUwTq2p5o1hK0rZ/hi"
    admin: true
teams:
  dev: [bob, carol] # carol is in LDAP
  ops:
    - bob
repositories:
  # public images
  - match: "public/**"
    anonymous: [pull]
    users: { bob: [pull, push] }
  - match: "ops/**"
    teams: { ops: [pull, push] }
`;

describe('berth user', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir('berth-cli-policy-');
  });
  after(() => removeDir(dir));

  it('user add creates the file (0600) with a bcrypt hash the server loads', async () => {
    const file = path.join(dir, 'new', 'policy.yml');
    const { io, stdout } = fakeIo('correct horse\n');
    assert.equal(await userCommand(['add', 'alice', '--policy', file, '--password-stdin', '--admin'], io), 0);
    assert.match(stdout(), /added user alice \(admin\)/);
    const policy = await loadPolicy(file);
    const alice = policy.users.get('alice');
    assert.ok(alice);
    assert.equal(alice.admin, true);
    assert.match(alice.password, /^\$2b\$12\$/);
    assert.equal(await verifyPassword('correct horse', alice.password), true);
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.match(await readFile(file, 'utf8'), /Private registry in 5 minutes/);
  });

  it('keeps the comments and mode of an existing file and refuses a duplicate user', async () => {
    const file = path.join(dir, 'existing.yml');
    await writeFile(file, EXISTING);
    await chmod(file, 0o644);
    const added = fakeIo('carols password\n');
    await userCommand(['add', 'carol', '--policy', file, '--password-stdin'], added.io);
    assert.match(added.stderr(), /readable by every user \(mode 0644\) and holds password hashes; chmod o-r/);
    const text = await readFile(file, 'utf8');
    for (const comment of [
      'Do not remove this line',
      'the build engineer',
      'carol is in LDAP',
      'public images',
    ])
      assert.ok(text.includes(comment), `comment "${comment}" kept:\n${text}`);
    assert.ok(text.indexOf('bob:') < text.indexOf('carol:'), 'the new user comes after the existing one');
    assert.equal((await loadPolicy(file)).users.get('carol')?.admin, false);
    assert.equal((await stat(file)).mode & 0o777, 0o644, 'the mode the operator chose stays');
    await assert.rejects(
      userCommand(['add', 'carol', '--policy', file, '--password-stdin'], fakeIo('another password\n').io),
      (err: Error) => err instanceof CliError && /already exists.*berth user passwd carol/.test(err.message),
    );
  });

  it('user passwd replaces the hash and keeps admin', async () => {
    const file = path.join(dir, 'passwd.yml');
    await userCommand(
      ['add', 'dave', '--policy', file, '--password-stdin', '--admin'],
      fakeIo('first password\n').io,
    );
    const before = (await loadPolicy(file)).users.get('dave')?.password;
    await userCommand(
      ['passwd', 'dave', '--policy', file, '--password-stdin'],
      fakeIo('second password\r\n').io,
    );
    const dave = (await loadPolicy(file)).users.get('dave');
    assert.ok(dave);
    assert.notEqual(dave.password, before);
    assert.equal(await verifyPassword('second password', dave.password), true);
    assert.equal(dave.admin, true);
    await assert.rejects(
      userCommand(['passwd', 'nobody', '--policy', file, '--password-stdin'], fakeIo('second password\n').io),
      /no user nobody/,
    );
  });

  it('user rm removes the user from teams and rule user maps', async () => {
    const file = path.join(dir, 'rm.yml');
    await writeFile(file, EXISTING);
    assert.equal(await userCommand(['rm', 'bob', '--policy', file], fakeIo().io), 0);
    const policy = await loadPolicy(file);
    assert.equal(policy.users.has('bob'), false);
    assert.deepEqual(policy.teams.get('dev'), ['carol']);
    assert.deepEqual(policy.teams.get('ops'), []);
    assert.equal(policy.repositories[0]?.users.has('bob'), false);
    assert.deepEqual(policy.repositories[0]?.anonymous, ['pull']);
    assert.match(await readFile(file, 'utf8'), /public images/);
    await assert.rejects(userCommand(['rm', 'bob', '--policy', file], fakeIo().io), /no user bob/);
  });

  it('refuses bad passwords, names and a missing policy file, and reads BERTH_AUTH_POLICY', async () => {
    const file = path.join(dir, 'refusals.yml');
    const add = (input: string, ...extra: string[]) =>
      userCommand(['add', 'erin', '--policy', file, ...extra], fakeIo(input).io);
    await assert.rejects(add('\n', '--password-stdin'), /password is empty/);
    await assert.rejects(add('short\n', '--password-stdin'), /too short: use at least 8/);
    await assert.rejects(add('long enough\n'), /not a terminal: pass the password with --password-stdin/);
    await assert.rejects(
      userCommand(['add', 'Erin!', '--policy', file, '--password-stdin'], fakeIo('long enough\n').io),
      /invalid user name "Erin!"/,
    );
    await assert.rejects(
      userCommand(['add', 'erin', '--password-stdin'], fakeIo('long enough\n').io),
      (err: Error) => err instanceof CliError && err.exitCode === 1 && /pass --policy FILE/.test(err.message),
    );
    await assert.rejects(stat(file), { code: 'ENOENT' }, 'nothing written by a refused command');
    await userCommand(
      ['add', 'erin', '--password-stdin'],
      fakeIo('long enough\n', { BERTH_AUTH_POLICY: file }).io,
    );
    assert.ok((await loadPolicy(file)).users.has('erin'));
  });

  it('never writes a file the server would refuse', async () => {
    const file = path.join(dir, 'invalid.yml');
    const broken = 'users: {}\nrepositories:\n  - match: "a/**"\n    anonymous: [fly]\n';
    await writeFile(file, broken);
    await assert.rejects(
      userCommand(['add', 'frank', '--policy', file, '--password-stdin'], fakeIo('long enough\n').io),
      (err: Error) => err instanceof PolicyError && /repositories\[0\]\.anonymous/.test(err.message),
    );
    assert.equal(await readFile(file, 'utf8'), broken);
  });
});

describe('berth robot', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir('berth-cli-robot-');
  });
  after(() => removeDir(dir));

  it('robot add prints the secret once and stores only its hash', async () => {
    const file = path.join(dir, 'policy.yml');
    const { io, stdout } = fakeIo();
    const args = ['add', 'ci', '--scope', 'repository:ci/*:pull,push', '--scope', 'repository:base/**:pull'];
    assert.equal(
      await robotCommand([...args, '--expires', '90d', '--description', 'CI: builds', '--policy', file], io),
      0,
    );
    const printed = stdout();
    const secret = /^secret: {3}(\S+)$/m.exec(printed)?.[1];
    assert.ok(secret, printed);
    assert.match(printed, /^robot account created\nusername: robot\$ci\n/);
    assert.match(printed, /^expires: {2}2026-08-30T12:00:00Z$/m);
    assert.match(printed, /Store the secret now: Berth keeps only its hash\.\n$/);
    assert.equal(printed.split(secret).length, 2, 'the secret appears once');
    const text = await readFile(file, 'utf8');
    assert.ok(!text.includes(secret), 'the file holds no plain secret');
    const robot = (await loadPolicy(file)).robots.get('ci');
    assert.ok(robot);
    assert.equal(verifyRobotSecret(secret, robot.secret), true);
    assert.ok(robot.expires !== undefined && robot.expires > NOW);
    assert.deepEqual(
      robot.grants.map((grant) => [grant.pattern.source, grant.actions]),
      [
        ['ci/*', ['pull', 'push']],
        ['base/**', ['pull']],
      ],
    );
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    await assert.rejects(robotCommand([...args, '--policy', file], fakeIo().io), /robot ci already exists/);
  });

  it('refuses a bad scope naming it, and no scope at all', async () => {
    const file = path.join(dir, 'bad-scope.yml');
    const add = (scope: string) =>
      robotCommand(['add', 'ci', '--scope', scope, '--policy', file], fakeIo().io);
    await assert.rejects(add('repository:ci/*:fly'), /--scope repository:ci\/\*:fly: unknown action "fly"/);
    await assert.rejects(add('ci/*:pull'), /--scope ci\/\*:pull: expected repository:PATTERN:ACTIONS/);
    await assert.rejects(add(`repository:\${user}/*:pull`), /\$\{user\} has no meaning for a robot/);
    await assert.rejects(add('repository:/ci:pull'), /--scope repository:\/ci:pull: a pattern may not start/);
    await assert.rejects(robotCommand(['add', 'ci', '--policy', file], fakeIo().io), /at least one --scope/);
    await assert.rejects(stat(file), { code: 'ENOENT' });
  });

  it('robot ls shows expiry and robot rm removes', async () => {
    const file = path.join(dir, 'ls.yml');
    await robotCommand(
      ['add', 'old', '--scope', 'repository:a/*:pull', '--expires', '1h', '--policy', file],
      fakeIo().io,
    );
    await robotCommand(['add', 'forever', '--scope', 'repository:b/**:*', '--policy', file], fakeIo().io);
    const later = fakeIo();
    later.io.now = () => NOW + 2 * 3_600_000;
    await robotCommand(['ls', '--policy', file], later.io);
    assert.match(later.stdout(), /robot\$old +repository:a\/\*:pull +2026-06-01T13:00:00Z \(expired\)/);
    assert.match(later.stdout(), /robot\$forever +repository:b\/\*\*:pull,push,delete +never/);
    await robotCommand(['rm', 'robot$old', '--policy', file], fakeIo().io);
    assert.deepEqual([...(await loadPolicy(file)).robots.keys()], ['forever']);
    await assert.rejects(robotCommand(['rm', 'old', '--policy', file], fakeIo().io), /no robot old/);
  });

  it('parses --expires durations with days', () => {
    assert.equal(parseExpiresIn('90d'), 90 * 86_400_000);
    assert.equal(parseExpiresIn('1d12h'), 36 * 3_600_000);
    assert.equal(parseExpiresIn('12h'), 12 * 3_600_000);
    assert.equal(parseExpiresIn('30m'), 30 * 60_000);
    for (const bad of ['', '90', '0d', 'soon', '-1d']) assert.throws(() => parseExpiresIn(bad), /--expires/);
  });
});

describe('berth token inspect', () => {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const sign = (iat: number, lifetime: number) =>
    jwt.sign(
      {
        iss: 'berth',
        sub: 'alice',
        aud: 'registry.example',
        iat,
        nbf: iat - 1,
        exp: iat + lifetime,
        access: [{ type: 'repository', name: 'team-a/app', actions: ['pull', 'push'] }],
      },
      privateKey,
      { algorithm: 'RS256', keyid: 'k1' },
    );

  it('decodes a token and summarises its claims', async () => {
    const iat = Math.floor(NOW / 1000) - 60;
    const { io, stdout } = fakeIo();
    assert.equal(await tokenCommand(['inspect', sign(iat, 300)], io), 0);
    const shown = JSON.parse(stdout());
    assert.equal(shown.header.alg, 'RS256');
    assert.equal(shown.header.kid, 'k1');
    assert.equal(shown.claims.sub, 'alice');
    assert.deepEqual(shown.summary, {
      issuer: 'berth',
      subject: 'alice',
      audience: 'registry.example',
      issuedAt: '2026-06-01T11:59:00.000Z',
      notBefore: '2026-06-01T11:58:59.000Z',
      expiresAt: '2026-06-01T12:04:00.000Z',
      expired: false,
      access: ['repository:team-a/app:pull,push'],
      catalog: 'filtered',
    });
  });

  it('shows the catalog access of a catalog token', async () => {
    const iat = Math.floor(NOW / 1000);
    const catalogToken = jwt.sign(
      { iss: 'berth', sub: 'root', aud: 'berth', iat, exp: iat + 300, access: [CATALOG] },
      privateKey,
      { algorithm: 'RS256' },
    );
    const { io, stdout } = fakeIo();
    await tokenCommand(['inspect', catalogToken], io);
    const { summary } = JSON.parse(stdout());
    assert.deepEqual(summary.access, ['registry:catalog:*']);
    assert.equal(summary.catalog, 'all');
  });

  it('reports an old token as expired and reads "-" from stdin', async () => {
    const { io, stdout } = fakeIo(`${sign(Math.floor(NOW / 1000) - 7200, 300)}\n`);
    await tokenCommand(['inspect', '-'], io);
    assert.equal(JSON.parse(stdout()).summary.expired, true);
  });

  it('refuses what is not a JWT with a clear message', async () => {
    const inspect = (token: string) => tokenCommand(['inspect', token], fakeIo().io);
    await assert.rejects(inspect('junk'), /not a JWT: expected three parts/);
    await assert.rejects(inspect('a.b.c'), /not a JWT: the header is not base64url-encoded JSON/);
    await assert.rejects(inspect('e30.!!.x'), /not a JWT: the parts must be base64url/);
    await assert.rejects(
      inspect(`e30.${Buffer.from('[1]').toString('base64url')}.`),
      /payload is not a JSON object/,
    );
  });
});
