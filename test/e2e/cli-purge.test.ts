/**
 * `berth purge` against the store a running server uses, as a Kubernetes CronJob runs it: it
 * deletes idle upload sessions once, and a dry run only counts them.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { BERTH_BIN, type BerthProcess, CLI_ENV, startBerthProcess } from './helpers/berth-process.js';
import { run, runOk } from './helpers/run.js';

describe('berth purge', () => {
  let berth: BerthProcess;
  before(async () => {
    berth = await startBerthProcess();
  });
  after(() => berth.close());
  const env = () => ({ ...CLI_ENV, BERTH_STORAGE_FILESYSTEM_ROOTDIRECTORY: berth.root });

  it('deletes idle sessions of the shared store once; a dry run only counts them', async () => {
    const sessions: string[] = [];
    for (const name of ['purge/one', 'purge/two/deeper']) {
      const started = await fetch(`${berth.url}/v2/${name}/blobs/uploads/`, { method: 'POST' });
      assert.equal(started.status, 202);
      sessions.push(started.headers.get('location') as string);
    }
    const young = await runOk(BERTH_BIN, ['purge', '--age', '1h'], { env: env() });
    assert.match(young, /^deleted 0 upload session\(s\)/);
    const dry = await runOk(BERTH_BIN, ['purge', '--age', '0s', '--dry-run'], { env: env() });
    assert.match(dry, /^would delete 2 upload session\(s\)/);
    for (const session of sessions) assert.equal((await fetch(`${berth.url}${session}`)).status, 204);

    const real = await runOk(BERTH_BIN, ['purge', '--age', '0s'], { env: env() });
    assert.match(real, /^deleted 2 upload session\(s\)/);
    for (const session of sessions) assert.equal((await fetch(`${berth.url}${session}`)).status, 404);
  });

  it('a bad flag is a usage error naming it', async () => {
    const result = await run(BERTH_BIN, ['purge', '--age', 'soon'], { env: env() });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /--age: /);
  });
});
