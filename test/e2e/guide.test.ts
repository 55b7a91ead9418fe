/**
 * The README's "Private registry in 5 minutes", followed literally: its shell blocks are read
 * from README.md and run with bash, berth, podman and skopeo. Only what must change on a test
 * machine is replaced: /etc/berth by a temp directory, ./bin/berth by the checkout's path, the
 * port (localhost:5000) by the test server's, and SECRET by the secret `robot add` printed.
 * podman's storage and the clients' logins live in the temp directory too, set through the
 * environment so the commands stay as written.
 */
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { removeDir, tempDir } from '../helpers/tmp.js';
import { BERTH_BIN, type BerthProcess, startBerthProcess } from './helpers/berth-process.js';
import { clientEnv } from './helpers/client-env.js';
import { ociLayout, randomFile } from './helpers/oci-layout.js';
import { readmeSection, shellBlocks } from './helpers/readme.js';
import { type RunResult, run } from './helpers/run.js';

/** How containers/image words a registry's refusal. */
const REFUSED = /unauthorized|denied|insufficient_scope/i;

/** Environment that gives podman a storage, a temp dir and an event log of its own under `dir`. */
async function podmanConfig(dir: string): Promise<NodeJS.ProcessEnv> {
  const storage = path.join(dir, 'storage.conf');
  const containers = path.join(dir, 'containers.conf');
  await writeFile(
    storage,
    `[storage]\ndriver = "vfs"\ngraphroot = "${dir}/podman-storage"\nrunroot = "${dir}/podman-run"\n`,
  );
  await writeFile(
    containers,
    `[engine]\ntmp_dir = "${dir}/podman-tmp"\nevents_logger = "file"\nevents_logfile_path = "${dir}/podman-tmp/events.log"\n`,
  );
  return { CONTAINERS_STORAGE_CONF: storage, CONTAINERS_CONF: containers };
}

describe('README: Private registry in 5 minutes', () => {
  let work: string;
  let env: NodeJS.ProcessEnv;
  let berth: BerthProcess | undefined;
  let blocks: string[];
  let secret = '';

  /** A README command with this machine's paths. */
  const local = (text: string) =>
    text.replaceAll('/etc/berth', path.join(work, 'etc-berth')).replaceAll('./bin/berth', BERTH_BIN);
  const explain = (what: string, result: RunResult) =>
    `${what}\nexited ${result.code}\n${result.stdout}\n${result.stderr}\n--- berth ---\n${berth?.logs.slice(-8).join('\n')}`;

  before(async () => {
    blocks = shellBlocks(readmeSection('Private registry in 5 minutes'));
    work = await tempDir('berth-e2e-guide-');
    const client = await clientEnv(work);
    // containers/image insists that a REGISTRY_AUTH_FILE it is pointed at exists.
    await writeFile(client.authFile, '{"auths":{}}\n');
    env = { ...client.env, ...(await podmanConfig(work)) };
    // What the guide takes for granted: an image podman knows as myimage, an OCI layout ./build.
    const layout = await ociLayout(path.join(work, 'build'));
    const image = await layout.image([[randomFile('bin/app', 50_000)]]);
    await layout.finish([{ name: '1', descriptor: image }]);
    const pulled = await run('podman', ['pull', 'oci:build:1'], { env, cwd: work });
    assert.equal(pulled.code, 0, explain('podman pull oci:build:1', pulled));
    const id = pulled.stdout.trim().split('\n').at(-1) as string;
    const tagged = await run('podman', ['tag', id, 'myimage'], { env, cwd: work });
    assert.equal(tagged.code, 0, explain('podman tag', tagged));
  });
  after(async () => {
    await berth?.stop();
    if (work) await removeDir(work);
  });

  it('has the three blocks: set up, start, use', () => {
    assert.equal(blocks.length, 3, blocks.join('\n---\n'));
    assert.match(blocks[0] as string, /berth team add dev --member bob/);
    assert.match(blocks[1] as string, /berth serve/);
    assert.match(blocks[2] as string, /--dest-tls-verify=false --dest-creds 'robot\$ci:SECRET'/);
  });

  it('the set-up block adds the users, the team, the robot and the rules', async () => {
    const result = await run('bash', ['-euo', 'pipefail', '-c', local(blocks[0] as string)], {
      env,
      cwd: work,
    });
    assert.equal(result.code, 0, explain('set-up block', result));
    secret = /^secret: +(\S+)$/m.exec(result.stdout)?.[1] ?? '';
    assert.ok(secret, result.stdout);
    assert.match(result.stdout, /^alice +yes +-$/m, 'user ls: alice is an admin');
    assert.match(result.stdout, /^bob +no +dev$/m, 'user ls: bob is in dev');
  });

  it('the start block starts berth with the policy', async () => {
    const line = (blocks[1] as string).trim();
    const assignments = /^((?:[A-Z_]+=\S+ )+)\.\/bin\/berth serve$/.exec(line);
    assert.ok(assignments, `an environment and ./bin/berth serve: ${line}`);
    const variables = Object.fromEntries(
      (assignments[1] as string)
        .trim()
        .split(' ')
        .map((pair) => pair.split('=', 2).map(local) as [string, string]),
    );
    // startBerthProcess runs ./bin/berth serve on a free port, with its data in a temp dir.
    berth = await startBerthProcess({ env: variables, root: path.join(work, 'data') });
  });

  it('every command of the use block does what its comment says', async () => {
    const host = berth?.host;
    assert.ok(host && secret, 'the earlier steps ran');
    const lines = (blocks[2] as string).split('\n').filter((line) => line.trim() !== '');
    for (const line of lines) {
      const command = local(line).replaceAll('localhost:5000', host).replaceAll('SECRET', secret);
      const result = await run('bash', ['-c', command], { env, cwd: work });
      if (line.includes('# refused')) {
        assert.notEqual(result.code, 0, explain(`${line}\nshould have been refused but`, result));
        assert.match(result.stderr, REFUSED, explain(line, result));
      } else {
        assert.equal(result.code, 0, explain(line, result));
      }
    }
  });
});
