/**
 * Token auth end to end with real clients against one Berth process: podman logs in and pushes
 * into its own namespace, skopeo copies with --dest-creds and --src-creds, anonymous callers
 * read public repositories only, wrong passwords are refused cleanly, a robot stays inside its
 * scopes, one user cannot push into another's namespace, and containerd's ctr pulls with
 * --user. The tests run in order: later ones read the image the first one pushed.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { hashRobotSecret, newRobotSecret } from '../../src/auth/secrets.js';
import { quickHash, writePolicy } from '../helpers/auth.js';
import { removeDir, tempDir } from '../helpers/tmp.js';
import { type BerthProcess, serverErrors, startBerthProcess } from './helpers/berth-process.js';
import { type ClientEnv, clientEnv } from './helpers/client-env.js';
import { type Containerd, startContainerd } from './helpers/containerd.js';
import { type LayoutDescriptor, ociLayout, randomFile } from './helpers/oci-layout.js';
import { privateStorage, type RunResult, run } from './helpers/run.js';

const PASSWORDS = { alice: 'alice-e2e-password', bob: 'bob-e2e-password' };
const ROBOT_SECRET = newRobotSecret();
const ALICE = `alice:${PASSWORDS.alice}`;
const TLS = ['--src-tls-verify=false', '--dest-tls-verify=false'];
/** How containers/image and containerd word a registry's refusal (a 401 with or without a token). */
const REFUSED = /unauthorized|denied|insufficient_scope/i;
/**
 * What containers/image says when the token endpoint answers 401 to the credentials; any other
 * status (403, 400, 500) would surface as a different message.
 */
const BAD_CREDENTIALS = /invalid username\/password/i;
/** A repository or tag that does not exist. */
const MISSING = /manifest unknown|name unknown/i;

async function policyText(): Promise<string> {
  return `
users:
  alice: { password: "${await quickHash(PASSWORDS.alice)}" }
  bob: { password: "${await quickHash(PASSWORDS.bob)}" }
robots:
  ci: { secret: "${hashRobotSecret(ROBOT_SECRET)}", scopes: ["repository:ci/*:pull,push"] }
repositories:
  - match: "public/**"
    anonymous: [pull]
    users: { alice: [pull, push, delete] }
  - match: "\${user}/**"
    owner: [pull, push, delete]
`;
}

/** `ctr images ls` as ref -> manifest digest (columns: REF TYPE DIGEST ...). */
async function imageDigests(containerd: Containerd): Promise<Map<string, string>> {
  const lines = (await containerd.ctrOk(['images', 'ls'])).trim().split('\n').slice(1);
  return new Map(
    lines.map((line) => line.split(/\s+/)).map(([ref, , digest]) => [ref, digest] as [string, string]),
  );
}

describe('token auth with podman, skopeo and ctr', () => {
  let berth: BerthProcess;
  let work: string;
  let client: ClientEnv;
  let tool: LayoutDescriptor;
  /** The manifest digest podman reported for alice/app:1. */
  let pushed: string;

  const podman = (args: string[], input?: string) =>
    run(
      'podman',
      // --tmpdir: podman would otherwise keep its event log and locks in /run/libpod.
      [
        ...privateStorage(work),
        '--tmpdir',
        path.join(work, 'podman-tmp'),
        '--events-backend',
        'file',
        ...args,
      ],
      // In `work`, so an oci: path can be relative: podman names the image after the path,
      // and the random part of a temp dir's name has capitals, which image names may not.
      { env: client.env, input, cwd: work },
    );
  const skopeo = (args: string[]) => run('skopeo', args, { env: client.env });
  const authFile = () => ['--authfile', client.authFile];
  const ref = (repository: string) => `docker://${berth.host}/${repository}`;

  /** The client's output and Berth's last log lines, for the message of a failed assertion. */
  const explain = (what: string, result: RunResult) =>
    `${what} exited ${result.code}\n${result.stdout}\n${result.stderr}\n--- berth ---\n${berth.logs.slice(-12).join('\n')}`;
  const ok = (what: string, result: RunResult): string => {
    assert.equal(result.code, 0, explain(what, result));
    return result.stdout;
  };
  const failsWith = (what: string, result: RunResult, pattern: RegExp): void => {
    assert.notEqual(result.code, 0, explain(`${what} should have failed but`, result));
    assert.match(result.stderr, pattern, explain(what, result));
    // A Go panic also exits non-zero; the test is about a refusal the client understood.
    assert.doesNotMatch(result.stderr, /panic:|goroutine \d+ \[/, explain(what, result));
  };
  const login = (file: string, user: string, password: string) =>
    podman(
      ['login', '--tls-verify=false', '--authfile', file, '-u', user, '--password-stdin', berth.host],
      `${password}\n`,
    );
  const savedLogins = async (file = client.authFile): Promise<Record<string, unknown>> => {
    const text = await readFile(file, 'utf8').catch(() => '{}');
    return (JSON.parse(text) as { auths?: Record<string, unknown> }).auths ?? {};
  };

  before(async () => {
    work = await tempDir('berth-e2e-auth-');
    client = await clientEnv(work);
    berth = await startBerthProcess({
      env: {
        BERTH_AUTH_MODE: 'token',
        BERTH_AUTH_POLICY: await writePolicy(work, await policyText()),
        BERTH_AUTH_TOKEN_SIGNINGKEY: path.join(work, 'signing-key.pem'),
        BERTH_LOG_LEVEL: 'debug',
      },
    });
    const layout = await ociLayout(path.join(work, 'source'));
    const app = await layout.image([[randomFile('bin/app', 200_000)], [randomFile('etc/app.conf', 500)]]);
    tool = await layout.image([[randomFile('bin/tool', 100_000)]]);
    await layout.finish([
      { name: 'app', descriptor: app },
      { name: 'tool', descriptor: tool },
    ]);
  });
  after(async () => {
    // Either may be missing if before() failed part-way.
    await berth?.close();
    if (work) await removeDir(work);
  });

  it('podman: login, push to the own namespace, pull back, logout; then the pull is refused', async () => {
    const image = `${berth.host}/alice/app:1`;
    assert.match(
      ok('podman login', await login(client.authFile, 'alice', PASSWORDS.alice)),
      /Login Succeeded/,
    );
    assert.ok((await savedLogins())[berth.host], 'the login is saved in the private auth file');

    const id = ok('podman pull oci:', await podman(['pull', 'oci:source:app']))
      .trim()
      .split('\n')
      .at(-1) as string;
    ok('podman tag', await podman(['tag', id, image]));
    const digestFile = path.join(work, 'pushed.digest');
    ok(
      'podman push',
      await podman(['push', '--tls-verify=false', ...authFile(), '--digestfile', digestFile, image]),
    );
    pushed = (await readFile(digestFile, 'utf8')).trim();
    assert.match(pushed, /^sha256:[0-9a-f]{64}$/);

    // Without the local copy, the pull has to fetch every blob from Berth.
    ok('podman rmi', await podman(['rmi', '--force', id]));
    ok('podman pull', await podman(['pull', '--tls-verify=false', ...authFile(), image]));
    const digest = ok('podman inspect', await podman(['image', 'inspect', '--format', '{{.Digest}}', image]));
    assert.equal(digest.trim(), pushed, 'podman pulled the manifest it pushed');

    ok('podman logout', await podman(['logout', ...authFile(), berth.host]));
    assert.deepEqual(await savedLogins(), {}, 'logout removed the credentials');
    ok('podman rmi', await podman(['rmi', '--force', id]));
    failsWith(
      'anonymous podman pull of alice/app',
      await podman(['pull', '--tls-verify=false', ...authFile(), image]),
      REFUSED,
    );
  });

  it('skopeo: --dest-creds copies into public/, --src-creds copies out of alice/, digests match', async () => {
    ok(
      'skopeo copy in',
      await skopeo(['copy', ...TLS, '--dest-creds', ALICE, `oci:${work}/source:tool`, ref('public/tool:1')]),
    );
    const raw = ok(
      'skopeo inspect --raw',
      await skopeo(['inspect', '--raw', '--tls-verify=false', '--creds', ALICE, ref('public/tool:1')]),
    );
    const source = await readFile(path.join(work, 'source', 'blobs', 'sha256', tool.digest.slice(7)), 'utf8');
    assert.equal(raw, source, 'Berth serves the pushed manifest byte for byte');

    const out = path.join(work, 'copied-out');
    ok(
      'skopeo copy out',
      await skopeo(['copy', ...TLS, '--src-creds', ALICE, ref('alice/app:1'), `oci:${out}:app`]),
    );
    const index = JSON.parse(await readFile(path.join(out, 'index.json'), 'utf8'));
    assert.equal(index.manifests[0]?.digest, pushed, 'skopeo fetched the manifest podman pushed');
  });

  it('anonymous skopeo inspects a public repository but is refused a private one', async () => {
    // --no-creds: anonymous even if an earlier test failed before logging out.
    const inspected = ok(
      'anonymous inspect of public/tool',
      await skopeo(['inspect', '--tls-verify=false', '--no-creds', ref('public/tool:1')]),
    );
    assert.equal(JSON.parse(inspected).Digest, tool.digest);
    failsWith(
      'anonymous inspect of alice/app',
      await skopeo(['inspect', '--tls-verify=false', '--no-creds', ref('alice/app:1')]),
      REFUSED,
    );
  });

  it('a wrong password is refused cleanly, stores nothing, and Berth keeps serving', async () => {
    // An auth file of its own: the shared one may still hold alice's login if the first test failed.
    const loginFile = path.join(work, 'wrong-login.json');
    failsWith(
      'podman login with a wrong password',
      await login(loginFile, 'alice', 'not-her-password'),
      BAD_CREDENTIALS,
    );
    assert.deepEqual(await savedLogins(loginFile), {}, 'a failed login saves no credentials');
    failsWith(
      'skopeo copy with a wrong password',
      await skopeo([
        'copy',
        ...TLS,
        '--dest-creds',
        'alice:wrong',
        `oci:${work}/source:tool`,
        ref('public/tool:2'),
      ]),
      BAD_CREDENTIALS,
    );

    assert.equal(berth.child.exitCode, null, 'Berth is still running');
    assert.equal((await fetch(`${berth.url}/healthz`)).status, 200);
    const tags = ok(
      'skopeo list-tags',
      await skopeo(['list-tags', '--tls-verify=false', '--no-creds', ref('public/tool')]),
    );
    assert.deepEqual(JSON.parse(tags).Tags, ['1'], 'the refused copy tagged nothing');
    // The few failures above must not lock alice (or this address) out.
    ok(
      'skopeo inspect with the right password',
      await skopeo(['inspect', '--tls-verify=false', '--creds', ALICE, ref('alice/app:1')]),
    );
  });

  it('a robot pushes inside its scope and is refused outside it', async () => {
    const robot = `robot$ci:${ROBOT_SECRET}`;
    const source = `oci:${work}/source:tool`;
    ok(
      'robot copy into ci/app',
      await skopeo(['copy', ...TLS, '--dest-creds', robot, source, ref('ci/app:1')]),
    );
    const inspected = ok(
      'robot inspect of ci/app',
      await skopeo(['inspect', '--tls-verify=false', '--creds', robot, ref('ci/app:1')]),
    );
    assert.equal(JSON.parse(inspected).Digest, tool.digest);

    failsWith(
      'robot copy into public/other',
      await skopeo(['copy', ...TLS, '--dest-creds', robot, source, ref('public/other:1')]),
      REFUSED,
    );
    failsWith(
      'anonymous inspect of public/other',
      await skopeo(['inspect', '--tls-verify=false', '--no-creds', ref('public/other:1')]),
      MISSING,
    );
  });

  it("bob cannot push into alice's namespace", async () => {
    failsWith(
      'bob copy into alice/x',
      await skopeo([
        'copy',
        ...TLS,
        '--dest-creds',
        `bob:${PASSWORDS.bob}`,
        `oci:${work}/source:tool`,
        ref('alice/x:1'),
      ]),
      REFUSED,
    );
    failsWith(
      'alice inspect of alice/x',
      await skopeo(['inspect', '--tls-verify=false', '--creds', ALICE, ref('alice/x:1')]),
      MISSING,
    );
  });

  describe('containerd', () => {
    let containerd: Containerd;
    before(async () => {
      containerd = await startContainerd();
    });
    after(async () => {
      await containerd?.stop();
    });

    it('ctr without --user is refused a private repository', async () => {
      const image = `${berth.host}/alice/app:1`;
      failsWith('ctr content fetch without --user', await containerd.pull(image), REFUSED);
      assert.equal((await imageDigests(containerd)).get(image), undefined);
    });

    it('ctr --user alice:PASSWORD fetches the image podman pushed', async () => {
      const image = `${berth.host}/alice/app:1`;
      ok(
        'ctr content fetch --user',
        await containerd.pull(image, { user: { name: 'alice', password: PASSWORDS.alice } }),
      );
      assert.equal((await imageDigests(containerd)).get(image), pushed, 'ctr images ls names the digest');
    });
  });

  it('no request ended in a server error', () => {
    assert.deepEqual(serverErrors(berth.logs), []);
  });
});
