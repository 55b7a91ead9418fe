/** The files under deploy/ work as shipped: the example config and the systemd unit. */
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { removeDir, tempDir } from '../helpers/tmp.js';
import { BERTH_BIN, CLI_ENV, REPO_ROOT } from './helpers/berth-process.js';
import { run } from './helpers/run.js';

describe('deploy/', () => {
  it('./bin/berth config check deploy/berth.yml passes without warnings', async () => {
    const result = await run(BERTH_BIN, ['config', 'check', 'deploy/berth.yml'], {
      env: CLI_ENV,
      cwd: REPO_ROOT,
    });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, 'deploy/berth.yml: configuration is valid\n');
  });

  it('systemd-analyze verify accepts the unit (with this checkout for /opt/berth)', async () => {
    const unit = await readFile(path.join(REPO_ROOT, 'deploy/systemd/berth.service'), 'utf8');
    assert.match(unit, /^ExecStart=\/opt\/berth\/bin\/berth serve --config \/etc\/berth\/berth\.yml$/m);
    const dir = await tempDir('berth-deploy-');
    try {
      const local = path.join(dir, 'berth.service');
      await writeFile(local, unit.replaceAll('/opt/berth/', REPO_ROOT));
      const result = await run('systemd-analyze', ['verify', local], { env: CLI_ENV });
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stderr, '', 'no unknown or misspelt settings');
    } finally {
      await removeDir(dir);
    }
  });
});
