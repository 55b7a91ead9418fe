/**
 * The README's quick start, run as written (only the port differs): an image built from local
 * files with docker and with buildah is pushed to Berth and run or inspected from it, with no
 * network access beyond the machine.
 */
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { removeDir, tempDir } from '../helpers/tmp.js';
import { type BerthProcess, startBerthProcess } from './helpers/berth-process.js';
import { requireEngine } from './helpers/docker.js';
import { readmeSection, shellBlockWith } from './helpers/readme.js';
import { run, runOk } from './helpers/run.js';

describe('README quick start', () => {
  const section = readmeSection('Quick start');
  let berth: BerthProcess;
  let work: string;
  let env: NodeJS.ProcessEnv;
  let port: string;
  /** The guide's `localhost:5000`, pointed at the test's server. */
  let script: (block: string) => string;

  before(async () => {
    berth = await startBerthProcess();
    port = berth.host.slice(berth.host.lastIndexOf(':') + 1);
    work = await tempDir('berth-quickstart-');
    const storageConf = path.join(work, 'storage.conf');
    // buildah's images go to a private vfs store, docker's login state to a private directory.
    await writeFile(
      storageConf,
      `[storage]\ndriver = "vfs"\ngraphroot = "${work}/storage"\nrunroot = "${work}/run"\n`,
    );
    env = { ...process.env, CONTAINERS_STORAGE_CONF: storageConf, DOCKER_CONFIG: path.join(work, 'docker') };
    await mkdir(path.join(work, 'docker'));
    // buildah also reads DOCKER_CONFIG, and wants the file there once the variable is set.
    await writeFile(path.join(work, 'docker', 'config.json'), '{}\n');
    script = (block) => `set -euo pipefail\n${block.replaceAll('localhost:5000', `localhost:${port}`)}`;
    await requireEngine((args) => run('docker', args, { env }));
  });
  after(async () => {
    await run('docker', ['rmi', '--force', `localhost:${port}/demo/hello:1`], { env });
    await berth.close();
    await removeDir(work);
  });

  it('the docker commands build, push, remove and run the image from Berth', async () => {
    const output = await runOk('bash', ['-c', script(shellBlockWith(section, 'docker build'))], {
      cwd: work,
      env,
    });
    assert.match(output, /^hello from Berth$/m);
    const tags = await fetch(`${berth.url}/v2/demo/hello/tags/list`);
    assert.deepEqual(await tags.json(), { name: 'demo/hello', tags: ['1'] });
  });

  it('the buildah commands push an image that skopeo then inspects in Berth', async () => {
    const output = await runOk('bash', ['-c', script(shellBlockWith(section, 'buildah from'))], {
      cwd: work,
      env,
    });
    const inspected = JSON.parse(output.slice(output.indexOf('{')));
    assert.equal(inspected.Name, `localhost:${port}/demo/hello`);
    assert.equal(inspected.Layers.length, 1);
    assert.ok(inspected.Digest.startsWith('sha256:'));
  });
});
