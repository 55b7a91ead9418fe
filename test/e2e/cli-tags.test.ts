/**
 * `berth tag history`, `berth tag rollback` and `berth repo rm` run as a user runs them,
 * against a real `berth serve` with token auth: credentials from --password-stdin or from
 * docker's login file, the address from --registry or from the configuration.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { token, usersSection, writePolicy } from '../helpers/auth.js';
import { imageManifest, jsonBlob, OCI_MANIFEST, randomBlob, type TestDescriptor } from '../helpers/oci.js';
import { removeDir, tempDir } from '../helpers/tmp.js';
import { BERTH_BIN, type BerthProcess, CLI_ENV, startBerthProcess } from './helpers/berth-process.js';
import { type RunResult, run } from './helpers/run.js';

const ALICE: [string, string] = ['alice', 'alice-password'];

describe('berth tag and repo commands against a running registry', () => {
  let dir: string;
  let berthd: BerthProcess;
  let pushed: string[];
  let config: string;

  /** Runs `berth args` with `input` on standard input and extra environment. */
  function berth(args: string[], input = '', env: Record<string, string> = {}): Promise<RunResult> {
    return run(BERTH_BIN, args, { env: { ...CLI_ENV, ...env }, input });
  }

  /** `berth` as alice, the registry named by --registry. */
  function asAlice(args: string[]): Promise<RunResult> {
    return berth(
      [...args, '--registry', berthd.url, '--username', 'alice', '--password-stdin'],
      `${ALICE[1]}\n`,
    );
  }

  /** Pushes a one-layer image as alice with a token, the way a client does; returns its digest. */
  async function push(name: string, tag: string): Promise<string> {
    const bearer = `Bearer ${await token(berthd.url, [`repository:${name}:pull,push`], ALICE)}`;
    const config = jsonBlob({ architecture: 'amd64', os: 'linux', tag });
    const layer = randomBlob(512);
    for (const blob of [config, layer]) await upload(name, bearer, blob.descriptor, blob.content);
    const manifest = imageManifest({ config: config.descriptor, layers: [layer.descriptor] });
    const res = await fetch(`${berthd.url}/v2/${name}/manifests/${tag}`, {
      method: 'PUT',
      headers: { Authorization: bearer, 'Content-Type': OCI_MANIFEST },
      body: manifest,
    });
    assert.equal(res.status, 201, await res.text());
    return res.headers.get('docker-content-digest') as string;
  }

  async function upload(
    name: string,
    bearer: string,
    descriptor: TestDescriptor,
    content: Buffer,
  ): Promise<void> {
    const res = await fetch(`${berthd.url}/v2/${name}/blobs/uploads/?digest=${descriptor.digest}`, {
      method: 'POST',
      headers: { Authorization: bearer, 'Content-Type': 'application/octet-stream' },
      body: content,
    });
    assert.equal(res.status, 201, await res.text());
  }

  before(async () => {
    dir = await tempDir('berth-cli-tags-');
    const policy = await writePolicy(
      dir,
      `${await usersSection(['alice', 'bob'])}repositories:\n  - match: "team/**"\n    users: { alice: ["*"], bob: [pull] }\n`,
    );
    berthd = await startBerthProcess({ env: { BERTH_AUTH_MODE: 'token', BERTH_AUTH_POLICY: policy } });
    config = join(dir, 'berth.yml');
    await writeFile(config, `http:\n  addr: ${berthd.host}\n`);
    pushed = [await push('team/app', 'v1'), await push('team/app', 'v1')];
  });
  after(async () => {
    await berthd.close();
    await removeDir(dir);
  });

  it('tag history prints a table, newest first, with who pushed from where', async () => {
    const result = await asAlice(['tag', 'history', 'team/app:v1']);
    assert.equal(result.code, 0, result.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    assert.match(lines[0] as string, /^TIME\s+ACTION\s+DIGEST\s+ACTOR\s+ADDRESS$/);
    assert.equal(lines.length, 3);
    assert.match(lines[1] as string, new RegExp(`push\\s+${pushed[1]}\\s+alice\\s+127\\.0\\.0\\.1`));
    assert.match(lines[2] as string, new RegExp(`push\\s+${pushed[0]}\\s+alice`));
  });

  it('tag history --json -n 1 prints the newest entry as JSON; the address comes from the config', async () => {
    const result = await berth(
      [
        'tag',
        'history',
        'team/app:v1',
        '--json',
        '-n',
        '1',
        '--config',
        config,
        '-u',
        'alice',
        '--password-stdin',
      ],
      `${ALICE[1]}\n`,
    );
    assert.equal(result.code, 0, result.stderr);
    const body = JSON.parse(result.stdout);
    assert.equal(body.name, 'team/app');
    assert.deepEqual(
      body.history.map((entry: { digest: string; action: string }) => [entry.action, entry.digest]),
      [['push', pushed[1]]],
    );
  });

  it('tag rollback moves the tag back and is recorded', async () => {
    const back = await asAlice(['tag', 'rollback', 'team/app:v1', '--steps', '1']);
    assert.equal(back.code, 0, back.stderr);
    assert.equal(back.stdout, `team/app:v1 now points at ${pushed[0]}\n`);
    const to = await asAlice(['tag', 'rollback', 'team/app:v1', '--to', pushed[1] as string, '--json']);
    assert.equal(to.code, 0, to.stderr);
    assert.deepEqual(JSON.parse(to.stdout), { name: 'team/app', tag: 'v1', digest: pushed[1] });
    const history = JSON.parse((await asAlice(['tag', 'history', 'team/app:v1', '--json'])).stdout);
    assert.deepEqual(
      history.history.map((entry: { action: string; actor: string }) => `${entry.action}/${entry.actor}`),
      ['rollback/alice', 'rollback/alice', 'push/alice', 'push/alice'],
    );
  });

  it("uses docker's saved login when no --username is given", async () => {
    const dockerConfig = join(dir, 'docker');
    await mkdir(dockerConfig, { recursive: true });
    const auth = Buffer.from(ALICE.join(':')).toString('base64');
    await writeFile(
      join(dockerConfig, 'config.json'),
      JSON.stringify({ auths: { [berthd.host]: { auth } } }),
    );
    const result = await berth(['tag', 'history', 'team/app:v1', '--registry', berthd.host], '', {
      DOCKER_CONFIG: dockerConfig,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /rollback/);
  });

  it('refuses clearly: no credentials, too few rights, a bad reference', async () => {
    const anonymous = await berth(['tag', 'history', 'team/app:v1', '--registry', berthd.url]);
    assert.equal(anonymous.code, 1);
    assert.match(anonymous.stderr, /^berth: .*answered 401: .*log in with docker login/);
    const bob = await berth(
      [
        'tag',
        'rollback',
        'team/app:v1',
        '--steps',
        '1',
        '--registry',
        berthd.url,
        '-u',
        'bob',
        '--password-stdin',
      ],
      'bob-password\n',
    );
    assert.equal(bob.code, 1);
    assert.match(bob.stderr, /insufficient scope/);
    const bad = await berth(['tag', 'history', 'team/app', '--registry', berthd.url]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /expected REPOSITORY:TAG/);
  });

  it('repo rm asks first, then deletes the repository', async () => {
    await push('team/gone', 'v1');
    const declined = await berth(['repo', 'rm', 'team/gone', '--registry', berthd.url], 'n\n');
    assert.equal(declined.code, 1);
    assert.match(declined.stderr, /team\/gone not deleted/);
    const bob = await berth(
      ['repo', 'rm', 'team/gone', '--yes', '--registry', berthd.url, '-u', 'bob', '--password-stdin'],
      'bob-password\n',
    );
    assert.equal(bob.code, 1, 'bob may not delete');
    const removed = await asAlice(['repo', 'rm', 'team/gone', '--yes']);
    assert.equal(removed.code, 0, removed.stderr);
    assert.match(removed.stdout, /^deleted repository team\/gone/);
    const history = await asAlice(['tag', 'history', 'team/gone:v1']);
    assert.equal(history.code, 1);
    assert.match(history.stderr, /NAME_UNKNOWN/);
    const again = await asAlice(['repo', 'rm', 'team/gone', '--yes']);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /NAME_UNKNOWN/);
  });
});
