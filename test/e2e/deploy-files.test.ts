/** The files under deploy/ work as shipped: the example config and the systemd unit. */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { removeDir, tempDir } from '../helpers/tmp.js';
import { BERTH_BIN, REPO_ROOT } from './helpers/berth-process.js';
import { run } from './helpers/run.js';

const cleanEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' };

describe('deploy/', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir('berth-deploy-');
  });
  after(() => removeDir(dir));

  it('./bin/berth config check deploy/berth.yml passes without warnings', async () => {
    const result = await run(BERTH_BIN, ['config', 'check', 'deploy/berth.yml'], {
      env: cleanEnv,
      cwd: REPO_ROOT,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'deploy/berth.yml: configuration is valid\n');
  });

  it('systemd-analyze verify accepts the unit (with this checkout for /opt/berth)', async () => {
    const unit = await readFile(path.join(REPO_ROOT, 'deploy/systemd/berth.service'), 'utf8');
    assert.match(unit, /^ExecStart=\/opt\/berth\/bin\/berth serve --config \/etc\/berth\/berth\.yml$/m);
    const local = path.join(dir, 'berth.service');
    await writeFile(local, unit.replaceAll('/opt/berth/', REPO_ROOT));
    const result = await run('systemd-analyze', ['verify', local], { env: cleanEnv });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '', 'no unknown or misspelt settings');
  });
});
