import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { createAccounts } from '../../src/auth/accounts.js';
import { compilePattern } from '../../src/auth/glob.js';
import { parseHtpasswd } from '../../src/auth/htpasswd.js';
import { keyId, loadOrCreateSigningKey } from '../../src/auth/keys.js';
import { createLoginLimiter } from '../../src/auth/login-limiter.js';
import { ANONYMOUS, type Identity, policyPermissions } from '../../src/auth/permissions.js';
import { parsePolicy } from '../../src/auth/policy.js';
import { parseScope } from '../../src/auth/scopes.js';
import { hashRobotSecret } from '../../src/auth/secrets.js';
import { grantedAccess } from '../../src/auth/token-service.js';
import {
  issueAccessToken,
  issueRefreshToken,
  type TokenVerifier,
  verifyAccessToken,
  verifyRefreshToken,
} from '../../src/auth/tokens.js';
import { isRegistryError } from '../../src/registry/errors.js';
import { quickHash } from '../helpers/auth.js';
import { removeDir, tempDir } from '../helpers/tmp.js';

describe('repository patterns', () => {
  it('* stays within a component, ** crosses them, ? is one character', () => {
    const one = compilePattern('team/*');
    assert.ok(one.matches('team/app'));
    assert.ok(!one.matches('team/app/sub'));
    assert.ok(!one.matches('team'));
    const deep = compilePattern('team/**');
    assert.ok(deep.matches('team/app/sub'));
    assert.ok(!deep.matches('team'));
    assert.ok(!deep.matches('teamx/app'));
    assert.ok(compilePattern('v?/app').matches('v1/app'));
    assert.ok(!compilePattern('v?/app').matches('v10/app'));
    assert.ok(compilePattern('a.b/c').matches('a.b/c'));
    assert.ok(!compilePattern('a.b/c').matches('axb/c'), 'dots are literal');
  });

  it('the user placeholder only matches for that user', () => {
    const own = compilePattern(`\${user}/**`);
    assert.ok(own.perUser);
    assert.ok(own.matches('alice/app', 'alice'));
    assert.ok(!own.matches('alice/app', 'bob'));
    assert.ok(!own.matches('alice/app'));
  });

  it('refuses malformed patterns', () => {
    for (const bad of ['', '/abs', 'trailing/', 'a//b', 'with space', '$HOME/x']) {
      assert.throws(() => compilePattern(bad), Error, bad);
    }
  });
});

const POLICY = async () =>
  parsePolicy(
    `
users:
  alice: { password: "${await quickHash('a')}" }
  bob: { password: "${await quickHash('b')}" }
  root: { password: "${await quickHash('r')}", admin: true }
teams:
  dev: [bob]
robots:
  ci: { secret: "${hashRobotSecret('s')}", scopes: ["repository:ci/*:pull,push"] }
repositories:
  - match: "public/**"
    anonymous: [pull]
    users: { alice: [push] }
  - match: "public/locked/**"
    users: { alice: [delete] }
  - match: "team-a/**"
    teams: { dev: [pull, push] }
    authenticated: [pull]
  - match: "\${user}/**"
    owner: ["*"]
`,
    'policy.yaml',
  );

describe('policy evaluation', () => {
  const alice: Identity = { kind: 'user', name: 'alice', admin: false };
  const bob: Identity = { kind: 'user', name: 'bob', admin: false };

  it('the first matching rule decides, anonymous grants apply to everyone, default deny', async () => {
    const permissions = policyPermissions(await POLICY());
    assert.deepEqual(permissions.actions(ANONYMOUS, 'public/app'), ['pull']);
    assert.deepEqual(permissions.actions(alice, 'public/app'), ['pull', 'push']);
    // public/** matched first, so the later public/locked/** rule never applies.
    assert.deepEqual(permissions.actions(alice, 'public/locked/x'), ['pull', 'push']);
    assert.deepEqual(permissions.actions(ANONYMOUS, 'elsewhere/app'), []);
    assert.deepEqual(permissions.actions(bob, 'elsewhere/app'), []);
  });

  it('teams, authenticated users and owners', async () => {
    const permissions = policyPermissions(await POLICY());
    assert.deepEqual(permissions.actions(bob, 'team-a/app'), ['pull', 'push']);
    assert.deepEqual(permissions.actions(alice, 'team-a/app'), ['pull']);
    assert.deepEqual(permissions.actions(ANONYMOUS, 'team-a/app'), []);
    assert.deepEqual(permissions.actions(alice, 'alice/app'), ['pull', 'push', 'delete']);
    assert.deepEqual(permissions.actions(bob, 'alice/app'), []);
  });

  it('robots get their scopes (plus anonymous grants), admins everything', async () => {
    const policy = await POLICY();
    const permissions = policyPermissions(policy);
    const robot: Identity = { kind: 'robot', name: 'ci', robot: policy.robots.get('ci') as never };
    assert.deepEqual(permissions.actions(robot, 'ci/app'), ['pull', 'push']);
    assert.deepEqual(permissions.actions(robot, 'ci/app/deeper'), []);
    assert.deepEqual(permissions.actions(robot, 'team-a/app'), []);
    assert.deepEqual(permissions.actions(robot, 'public/x'), ['pull']);
    const root: Identity = { kind: 'user', name: 'root', admin: true };
    assert.deepEqual(permissions.actions(root, 'anything/at/all'), ['pull', 'push', 'delete']);
    assert.ok(permissions.catalog(root));
    assert.ok(!permissions.catalog(alice));
  });

  it('tokens get the intersection of what was asked and what is allowed', async () => {
    const permissions = policyPermissions(await POLICY());
    assert.deepEqual(
      grantedAccess(
        [
          'repository:public/app:pull,push,delete',
          'repository:public/app:pull',
          'repository:elsewhere/x:pull',
          'repository:BAD NAME:pull',
          'registry:catalog:*',
          'nonsense',
        ],
        alice,
        permissions,
      ),
      [{ type: 'repository', name: 'public/app', actions: ['pull', 'push'] }],
    );
  });
});

describe('policy file validation', () => {
  const bad: Array<[string, RegExp]> = [
    ['users: [a]', /p\.yaml: users: expected a mapping/],
    ['users: { alice: { password: "plain" } }', /users\.alice\.password: expected a bcrypt hash/],
    ['users: { Alice!: { password: "x" } }', /users\.Alice!: names are lower-case/],
    ['teams: { dev: alice }', /teams\.dev: expected a list of user names/],
    [
      'repositories: [{ match: "a/**", anonymous: [pull, fly] }]',
      /repositories\[0\]\.anonymous: unknown action "fly"/,
    ],
    ['repositories: [{ match: "a/**", owner: [pull] }]', /repositories\[0\]\.owner: only has a meaning/],
    ['repositories: [{ match: "a/**", everyone: [pull] }]', /unknown key everyone/],
    ['robots: { ci: { secret: "sha256:00", scopes: [] } }', /robots\.ci\.secret: expected sha256/],
    ['groups: {}', /unknown key groups/],
    ['users: {', /not valid YAML/],
  ];
  for (const [text, message] of bad) {
    it(`refuses ${text}`, () => {
      assert.throws(() => parsePolicy(text, 'p.yaml'), message);
    });
  }

  it('refuses robot scopes that are not repository:PATTERN:ACTIONS', () => {
    const secret = hashRobotSecret('s');
    assert.throws(
      () => parsePolicy(`robots: { ci: { secret: "${secret}", scopes: ["ci/*:pull"] } }`, 'p.yaml'),
      /robots\.ci\.scopes\[0\]: expected repository:PATTERN:ACTIONS/,
    );
  });

  it('an empty file is an empty policy', () => {
    const policy = parsePolicy('', 'p.yaml');
    assert.equal(policy.users.size, 0);
    assert.deepEqual(policy.repositories, []);
  });
});

describe('accounts', () => {
  it('checks passwords and robot secrets; expired robots and unknown users fail', async () => {
    const policy = parsePolicy(
      `users: { alice: { password: "${await quickHash('pw')}" } }
robots:
  ci: { secret: "${hashRobotSecret('s3cret')}", scopes: ["repository:ci/*:pull"] }
  old: { secret: "${hashRobotSecret('s3cret')}", scopes: ["repository:ci/*:pull"], expires: 2020-01-01T00:00:00Z }`,
      'p.yaml',
    );
    const accounts = createAccounts(policy, parseHtpasswd(`carol:${await quickHash('c')}\n`, 'htpasswd'));
    assert.equal((await accounts.authenticate('alice', 'pw'))?.kind, 'user');
    assert.equal(await accounts.authenticate('alice', 'PW'), undefined);
    assert.equal(await accounts.authenticate('nobody', 'pw'), undefined);
    assert.equal((await accounts.authenticate('carol', 'c'))?.kind, 'user');
    assert.equal((await accounts.authenticate('robot$ci', 's3cret'))?.kind, 'robot');
    assert.equal(await accounts.authenticate('robot$ci', 'wrong'), undefined);
    assert.equal(await accounts.authenticate('robot$old', 's3cret'), undefined);
    assert.equal(accounts.lookup('robot$old'), undefined);
    // A remembered success must not outlive a password change: a new load, a new hash.
    const changed = createAccounts(
      parsePolicy(`users: { alice: { password: "${await quickHash('new')}" } }`, 'p.yaml'),
      new Map(),
    );
    assert.equal(await changed.authenticate('alice', 'pw'), undefined);
    assert.notEqual(
      changed.stamp({ kind: 'user', name: 'alice', admin: false }),
      accounts.stamp({ kind: 'user', name: 'alice', admin: false }),
    );
  });

  it('htpasswd files with non-bcrypt hashes are refused by line', () => {
    assert.throws(() => parseHtpasswd('bob:{SHA}abc\n', 'h'), /h:1: bob does not have a bcrypt hash/);
  });
});

describe('login limiter', () => {
  const limits = { failures: 2, addressfailures: 5, userfailures: 5, window: 10_000 };
  const at = (username: string, remote: string) => ({ username, remote });
  const limited = (err: unknown) => isRegistryError(err) && err.status === 429;

  it('locks a user out at one address after `failures`, until the window ends', () => {
    let now = 0;
    const limiter = createLoginLimiter(limits, () => now);
    limiter.check(at('alice', '10.0.0.1'));
    limiter.fail(at('alice', '10.0.0.1'));
    limiter.fail(at('alice', '10.0.0.1'));
    assert.throws(
      () => limiter.check(at('alice', '10.0.0.1')),
      (err) => limited(err) && isRegistryError(err) && err.headers['Retry-After'] === '10',
    );
    now = 10_001;
    limiter.check(at('alice', '10.0.0.1'));
  });

  it("one user's failures lock out neither other users at that address nor that user elsewhere", () => {
    const limiter = createLoginLimiter(limits);
    limiter.fail(at('alice', '10.0.0.1'));
    limiter.fail(at('alice', '10.0.0.1'));
    assert.throws(() => limiter.check(at('alice', '10.0.0.1')), limited);
    limiter.check(at('bob', '10.0.0.1'));
    limiter.check(at('alice', '10.0.0.2'));
  });

  it('an address trying many names hits the per-address bound', () => {
    const limiter = createLoginLimiter(limits);
    for (const name of ['a', 'b', 'c', 'd', 'e']) limiter.fail(at(name, '10.0.0.1'));
    assert.throws(() => limiter.check(at('f', '10.0.0.1')), limited);
    limiter.check(at('f', '10.0.0.2'));
  });

  it('many addresses trying one name hit the per-user bound', () => {
    const limiter = createLoginLimiter(limits);
    for (const remote of ['10.0.0.1', '10.0.0.2', '10.0.0.3', '10.0.0.4', '10.0.0.5']) {
      limiter.fail(at('alice', remote));
    }
    assert.throws(() => limiter.check(at('alice', '10.0.0.6')), limited);
    limiter.check(at('bob', '10.0.0.6'));
  });

  it('a success clears that user at that address; 0 turns a bound off', () => {
    const limiter = createLoginLimiter(limits);
    limiter.fail(at('alice', '10.0.0.1'));
    limiter.succeed(at('alice', '10.0.0.1'));
    limiter.fail(at('alice', '10.0.0.1'));
    limiter.check(at('alice', '10.0.0.1'));
    const off = createLoginLimiter({ failures: 0, addressfailures: 0, userfailures: 0, window: 10_000 });
    for (let i = 0; i < 20; i++) off.fail(at(`user${i % 2}`, '10.0.0.1'));
    off.check(at('user0', '10.0.0.1'));
  });
});

describe('tokens', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = { kid: keyId(rsa.publicKey), algorithm: 'RS256' as const, ...rsa };
  const verifier: TokenVerifier = {
    issuer: 'berth',
    service: 'berth',
    algorithm: 'RS256',
    keys: (kid) => (kid === key.kid ? [key] : []),
  };
  const access = [{ type: 'repository', name: 'a/b', actions: ['pull'] }];

  it('carry iss, sub, aud, exp, nbf, iat, jti, access and a kid header', () => {
    const issued = issueAccessToken(key, verifier, 'alice', access, 300, 1_800_000_000_000);
    const [header, payload] = issued.token
      .split('.')
      .slice(0, 2)
      .map((part) => JSON.parse(Buffer.from(part, 'base64url').toString()));
    assert.deepEqual(header, { alg: 'RS256', typ: 'JWT', kid: key.kid });
    assert.equal(payload.iss, 'berth');
    assert.equal(payload.sub, 'alice');
    assert.equal(payload.aud, 'berth');
    assert.equal(payload.iat, 1_800_000_000);
    assert.equal(payload.exp, 1_800_000_300);
    assert.ok(payload.nbf <= payload.iat);
    assert.match(payload.jti, /^[0-9a-f-]{36}$/);
    assert.deepEqual(payload.access, access);
    assert.equal(issued.expiresIn, 300);
  });

  it('verify within the clock skew and not beyond it', () => {
    const t = 1_800_000_000_000;
    const { token } = issueAccessToken(key, verifier, 'alice', access, 300, t);
    assert.equal(verifyAccessToken(token, verifier, t + 310_000).subject, 'alice');
    assert.throws(() => verifyAccessToken(token, verifier, t + 400_000), /expired/);
    assert.throws(() => verifyAccessToken(token, verifier, t - 60_000), /not valid yet/);
  });

  it('refresh and access tokens cannot stand in for each other', () => {
    const refresh = issueRefreshToken(key, verifier, 'alice', 'stamp', 3600);
    assert.deepEqual(verifyRefreshToken(refresh, verifier), { subject: 'alice', stamp: 'stamp' });
    assert.throws(() => verifyAccessToken(refresh, verifier), /refresh token is not an access token/);
    const { token } = issueAccessToken(key, verifier, 'alice', access, 300);
    assert.throws(() => verifyRefreshToken(token, verifier), /not a refresh token/);
  });

  it('scopes parse with plugin classes and names containing colons are split at the ends', () => {
    assert.deepEqual(parseScope('repository(plugin):a/b:pull'), {
      type: 'repository',
      name: 'a/b',
      actions: ['pull'],
    });
    assert.deepEqual(parseScope('repository:host:5000/a:pull,push'), {
      type: 'repository',
      name: 'host:5000/a',
      actions: ['pull', 'push'],
    });
    assert.equal(parseScope('repository:a'), undefined);
    assert.equal(parseScope('repository::pull'), undefined);
  });
});

describe('signing key', () => {
  it('is generated once with mode 0600 and read back with the same kid', async () => {
    const dir = await tempDir('berth-key-');
    try {
      const file = join(dir, 'sub', 'key.pem');
      const [first, second] = await Promise.all([
        loadOrCreateSigningKey(file, 'ES256'),
        loadOrCreateSigningKey(file, 'ES256'),
      ]);
      assert.equal(first.kid, second.kid, 'two starts racing agree on one key');
      assert.equal((await stat(file)).mode & 0o777, 0o600);
      assert.equal((await loadOrCreateSigningKey(file, 'ES256')).kid, first.kid);
      await assert.rejects(loadOrCreateSigningKey(file, 'RS256'), /does not fit RS256/);
    } finally {
      await removeDir(dir);
    }
  });
});
