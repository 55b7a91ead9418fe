/** `berth healthcheck`, the container HEALTHCHECK, against a real `berth serve` process. */
import assert from 'node:assert/strict';
import { rename, rm, symlink, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { removeDir, tempDir } from '../helpers/tmp.js';
import { BERTH_BIN, type BerthProcess, CLI_ENV, startBerthProcess } from './helpers/berth-process.js';
import { run } from './helpers/run.js';

describe('berth healthcheck', () => {
  let dir: string;
  let berth: BerthProcess;
  before(async () => {
    dir = await tempDir('berth-healthcheck-');
    berth = await startBerthProcess();
  });
  after(async () => {
    await berth.close();
    await removeDir(dir);
  });

  it('exits 0 when the server at the configured address is ready', async () => {
    const result = await run(BERTH_BIN, ['healthcheck'], {
      env: { ...CLI_ENV, BERTH_HTTP_ADDR: berth.host },
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, `${berth.url}/readyz: ready\n`);
  });

  it('reads the address from the file BERTH_CONFIG or --config names; a wildcard means loopback', async () => {
    const config = path.join(dir, 'berth.yml');
    await writeFile(config, `http:\n  addr: 0.0.0.0:${new URL(berth.url).port}\n`);
    const fromEnv = await run(BERTH_BIN, ['healthcheck'], { env: { ...CLI_ENV, BERTH_CONFIG: config } });
    assert.equal(fromEnv.code, 0, fromEnv.stderr);
    assert.equal(fromEnv.stdout, `${berth.url}/readyz: ready\n`);
    const fromOption = await run(BERTH_BIN, ['healthcheck', '--config', config], { env: CLI_ENV });
    assert.equal(fromOption.code, 0, fromOption.stderr);
  });

  it('exits 1 when the server answers /readyz with 503 (its storage is gone)', async () => {
    // The root is a symlink, swapped in one rename for one to a file: a server writing its
    // maintenance leases at that moment cannot make the root a directory again (mkdir -p can
    // when the root is moved away and something else is put there in a second step).
    const data = await tempDir('berth-broken-');
    const root = `${data}-root`;
    await symlink(data, root);
    const broken = await startBerthProcess({ root });
    try {
      await writeFile(`${data}-file`, 'not a directory');
      await symlink(`${data}-file`, `${root}-next`);
      await rename(`${root}-next`, root);
      const result = await run(BERTH_BIN, ['healthcheck'], {
        env: { ...CLI_ENV, BERTH_HTTP_ADDR: broken.host },
      });
      assert.equal(result.code, 1);
      assert.equal(result.stderr, `${broken.url}/readyz: answered 503\n`);
    } finally {
      await broken.stop();
      await rm(root, { force: true });
      await rm(`${data}-file`, { force: true });
      await removeDir(data);
    }
  });

  it('exits 1 and says why when nothing answers, 2 on a bad configuration', async () => {
    const stopped = await startBerthProcess();
    await stopped.close();
    const refused = await run(BERTH_BIN, ['healthcheck'], {
      env: { ...CLI_ENV, BERTH_HTTP_ADDR: stopped.host },
    });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, new RegExp(`${stopped.url}/readyz: .*ECONNREFUSED`));
    const invalid = await run(BERTH_BIN, ['healthcheck'], {
      env: { ...CLI_ENV, BERTH_HTTP_ADDR: 'nowhere' },
    });
    assert.equal(invalid.code, 2);
    assert.match(invalid.stderr, /BERTH_HTTP_ADDR \(http\.addr\): expected host:port/);
  });
});
