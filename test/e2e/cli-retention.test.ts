/**
 * `berth retention` against the store a running server uses: a dry run prints the table and
 * changes nothing, a run deletes what the rules do not keep (the server answers 404 for it),
 * and a run while another process holds the retention lease skips.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createFilesystemDriver } from '../../src/blobstore/filesystem.js';
import { withLease } from '../../src/registry/lease.js';
import { RETENTION_LEASE, type RetentionReport } from '../../src/retention/run.js';
import { pushImage } from '../helpers/oci.js';
import { BERTH_BIN, type BerthProcess, CLI_ENV, startBerthProcess } from './helpers/berth-process.js';
import { run, runOk } from './helpers/run.js';

const RULES = JSON.stringify([{ repository: 'ret/**', keep: { newest: 1 }, history: '90d' }]);

describe('berth retention', () => {
  let berth: BerthProcess;
  before(async () => {
    berth = await startBerthProcess({ env: { BERTH_STORAGE_CACHE_TTL: '0s' } });
  });
  after(() => berth.close());
  const env = () => ({
    ...CLI_ENV,
    BERTH_STORAGE_FILESYSTEM_ROOTDIRECTORY: berth.root,
    BERTH_RETENTION_RULES: RULES,
  });
  const tagStatus = async (tag: string) =>
    (await fetch(`${berth.url}/v2/ret/cli/manifests/${tag}`, { method: 'HEAD' })).status;

  it('a dry run prints what would go and deletes nothing; a run deletes it', async () => {
    await pushImage(berth.url, 'ret/cli', 'old');
    const at = Date.now();
    while (Date.now() === at) await new Promise((resolve) => setImmediate(resolve));
    await pushImage(berth.url, 'ret/cli', 'new');

    const dry = await runOk(BERTH_BIN, ['retention', '--dry-run'], { env: env() });
    assert.match(dry, /^KIND +REPOSITORY +ITEM +REASON$/m);
    assert.match(dry, /^tag +ret\/cli +old +rule 1 \(ret\/\*\*\): not among the 1 newest$/m);
    assert.match(dry, /^dry run: 1 repositories under a rule; would delete 1 tags and 0 history entries/m);
    assert.equal(await tagStatus('old'), 200);

    const report = JSON.parse(
      await runOk(BERTH_BIN, ['retention', '--json'], { env: env() }),
    ) as RetentionReport;
    assert.equal(report.dryRun, false);
    assert.deepEqual(
      report.items.map((item) => [item.kind, item.repository, item.item]),
      [['tag', 'ret/cli', 'old']],
    );
    assert.equal(await tagStatus('old'), 404);
    assert.equal(await tagStatus('new'), 200);
  });

  it('a run while another process holds the lease skips, naming the holder', async () => {
    const driver = await createFilesystemDriver({ rootDirectory: berth.root });
    const outcome = await withLease(driver, RETENTION_LEASE, { ttlMs: 60_000, holder: 'someone-else' }, () =>
      runOk(BERTH_BIN, ['retention'], { env: env() }),
    );
    assert.ok(outcome.ran);
    assert.match(
      outcome.value,
      /^skipped: someone-else is applying retention rules to this store \(lease until /,
    );
  });

  it('a bad flag is a usage error naming it', async () => {
    const result = await run(BERTH_BIN, ['retention', '--now'], { env: env() });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /retention: unexpected argument "--now"/);
  });
});
