/**
 * `docker login` against Berth's token server (auth.mode token, a policy file): a user and a
 * robot account (made with `berth robot add`) log in and push where the policy lets them, are
 * refused elsewhere with docker's own message, and after `docker logout` an anonymous pull of
 * a public repository works. The tests run in order: later ones use what earlier ones pushed.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { quickHash, writePolicy } from '../helpers/auth.js';
import { removeDir, tempDir } from '../helpers/tmp.js';
import { BERTH_BIN, type BerthProcess, serverErrors, startBerthProcess } from './helpers/berth-process.js';
import {
  assertAppLayers,
  assertContains,
  busyboxApp,
  type DockerSession,
  dockerSession,
  pushedDigest,
} from './helpers/docker.js';
import { runOk } from './helpers/run.js';

const RUN = randomBytes(3).toString('hex');
const PASSWORD = 'alice-docker-e2e-password';
const OWN = `alice/docker-${RUN}`;
const PUBLIC = `public/docker-${RUN}`;
const ROBOT_REPOSITORY = `ci/docker-${RUN}`;
/** What the docker engine prints when the registry refuses a push. */
const DENIED = /denied: requested access to the resource is denied/;

async function policyText(): Promise<string> {
  return `
users:
  alice: { password: "${await quickHash(PASSWORD)}" }
repositories:
  - match: "public/**"
    anonymous: [pull]
    users: { alice: [pull, push] }
  - match: "\${user}/**"
    owner: [pull, push, delete]
`;
}

/** Adds the robot `ci` (push and pull in ci/**) with the berth CLI; resolves with its secret. */
async function addRobot(policyFile: string): Promise<string> {
  const out = await runOk(BERTH_BIN, [
    'robot',
    'add',
    'ci',
    '--scope',
    'repository:ci/**:pull,push',
    '--policy',
    policyFile,
  ]);
  const secret = /^secret:\s+(\S+)$/m.exec(out)?.[1];
  assert.ok(secret, `berth robot add printed no secret:\n${out}`);
  return secret;
}

describe('docker login, push and pull against Berth with token auth', () => {
  let berth: BerthProcess;
  let work: string;
  let docker: DockerSession;
  let robotSecret: string;
  let expectedOutput: string;
  /** The digest docker printed when alice pushed OWN:1. */
  let pushed: string;

  const ref = (repository: string) => `${berth.host}/${repository}:1`;
  const login = (user: string, password: string) =>
    docker.run(['login', '--username', user, '--password-stdin', berth.host], `${password}\n`);
  /** The saved login's `auth` field decoded: `user:password`, or `user:` when docker kept a token. */
  const savedCredentials = async () => {
    const saved = (await docker.savedLogins())[berth.host];
    return { ...saved, auth: Buffer.from(saved?.auth ?? '', 'base64').toString() };
  };

  before(async () => {
    work = await tempDir('berth-e2e-docker-auth-');
    const policyFile = await writePolicy(work, await policyText());
    robotSecret = await addRobot(policyFile);
    berth = await startBerthProcess({
      env: {
        BERTH_AUTH_MODE: 'token',
        BERTH_AUTH_POLICY: policyFile,
        BERTH_AUTH_TOKEN_SIGNINGKEY: path.join(work, 'signing-key.pem'),
      },
    });
    docker = await dockerSession(work, berth.logs);
    const app = await busyboxApp(RUN);
    expectedOutput = app.output;
    await docker.build(ref(OWN), app.context);
  });
  after(async () => {
    // Any of them may be missing if before() failed part-way. The docker cleanup goes last: it
    // fails the suite if something is left, and must not keep the rest from being removed.
    await berth?.close();
    if (work) await removeDir(work);
    await docker?.cleanup();
  });

  it('a wrong password is refused and nothing is saved', async () => {
    const result = await login('alice', 'not-her-password');
    assert.notEqual(result.code, 0, result.stdout);
    assertContains(result.stderr, 'unauthorized: incorrect user name or password');
    assert.deepEqual(await docker.savedLogins(), {});
  });

  it('an anonymous push is refused', async () => {
    await docker.fails(['push', ref(OWN)], DENIED);
  });

  it('alice logs in, docker keeps a refresh token instead of her password, and she pushes', async () => {
    const result = await login('alice', PASSWORD);
    assert.equal(result.code, 0, result.stderr);
    assertContains(result.stdout, 'Login Succeeded');
    const saved = await savedCredentials();
    assert.equal(saved.auth, 'alice:', 'no password in config.json');
    assert.match(saved.identitytoken ?? '', /^ey[\w-]+\.[\w-]+\.[\w-]+$/, 'a refresh token (a JWT) instead');

    // The pushes authenticate with that refresh token alone.
    const own = await docker.ok(['push', ref(OWN)]);
    assertAppLayers(own, 'Pushed');
    pushed = pushedDigest(own, '1');
    await docker.ok(['tag', ref(OWN), ref(PUBLIC)]);
    const shared = await docker.ok(['push', ref(PUBLIC)]);
    const mounted = `Mounted from ${OWN}`;
    assertAppLayers(shared, mounted);
    assert.equal(pushedDigest(shared, '1'), pushed);
  });

  it('a push the policy does not allow is refused with docker\'s "denied" message', async () => {
    const elsewhere = ref(`bob/docker-${RUN}`);
    await docker.ok(['tag', ref(OWN), elsewhere]);
    await docker.fails(['push', elsewhere], DENIED);
  });

  it('a robot logs in as robot$ci with its secret, pushes inside its scope and is refused outside', async () => {
    const result = await login('robot$ci', robotSecret);
    assert.equal(result.code, 0, result.stderr);
    assertContains(result.stdout, 'Login Succeeded');
    assert.equal((await savedCredentials()).auth, 'robot$ci:', 'the robot replaced alice in config.json');

    await docker.ok(['tag', ref(OWN), ref(ROBOT_REPOSITORY)]);
    assert.equal(pushedDigest(await docker.ok(['push', ref(ROBOT_REPOSITORY)]), '1'), pushed);
    const outside = ref(`${PUBLIC}-robot`);
    await docker.ok(['tag', ref(OWN), outside]);
    await docker.fails(['push', outside], DENIED);
  });

  it('after docker logout, a public repository is pulled anonymously and a private one is refused', async () => {
    assertContains(await docker.ok(['logout', berth.host]), `Removing login credentials for ${berth.host}`);
    assert.deepEqual(await docker.savedLogins(), {}, 'logout removed the login');

    await docker.ok(['rmi', '--force', (await docker.imageId(ref(OWN))) as string]);
    const pulled = await docker.ok(['pull', ref(PUBLIC)]);
    assertAppLayers(pulled, 'Pull complete');
    assertContains(pulled, `Digest: ${pushed}\n`);
    assert.equal(await docker.runImage(ref(PUBLIC)), expectedOutput);

    const refused = await docker.fails(['pull', ref(OWN)], /pull access denied/);
    assertContains(refused, `pull access denied for ${berth.host}/${OWN}`);
  });

  it('no request ended in a server error', () => {
    assert.deepEqual(serverErrors(berth.logs), []);
  });
});
