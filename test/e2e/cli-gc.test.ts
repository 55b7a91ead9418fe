/**
 * `berth gc` against the store a running server uses, as a Kubernetes CronJob runs it: it
 * collects once while the server keeps serving, a dry run only reports, and a second run
 * while one holds the lease skips.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { BERTH_BIN, type BerthProcess, CLI_ENV, startBerthProcess } from './helpers/berth-process.js';
import { run, runOk } from './helpers/run.js';

interface Report {
  dryRun: boolean;
  deleted: { blobs: number; links: number };
  bytesFreed: number;
}

describe('berth gc', () => {
  let berth: BerthProcess;
  before(async () => {
    berth = await startBerthProcess({ env: { BERTH_STORAGE_CACHE_TTL: '0s' } });
  });
  after(() => berth.close());
  const env = (extra: Record<string, string> = {}) => ({
    ...CLI_ENV,
    BERTH_STORAGE_FILESYSTEM_ROOTDIRECTORY: berth.root,
    BERTH_GC_GRACEPERIOD: '0s',
    BERTH_GC_DELETEDELAY: '1s',
    ...extra,
  });

  async function pushLoneBlob(name: string): Promise<string> {
    const content = randomBytes(10_000);
    const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`;
    const response = await fetch(`${berth.url}/v2/${name}/blobs/uploads/?digest=${digest}`, {
      method: 'POST',
      body: content,
      headers: { 'Content-Type': 'application/octet-stream' },
    });
    assert.equal(response.status, 201);
    return digest;
  }

  it('a dry run reports the unreferenced blob and deletes nothing; a run deletes it', async () => {
    const digest = await pushLoneBlob('gc/cli');
    const dry = JSON.parse(await runOk(BERTH_BIN, ['gc', '--dry-run', '--json'], { env: env() })) as Report;
    assert.equal(dry.dryRun, true);
    assert.equal(dry.deleted.blobs, 1);
    assert.equal(dry.bytesFreed, 10_000);
    assert.equal((await fetch(`${berth.url}/v2/gc/cli/blobs/${digest}`, { method: 'HEAD' })).status, 200);

    const text = await runOk(BERTH_BIN, ['gc'], { env: env() });
    assert.match(text, /^scanned +\d+ repositories/m);
    assert.match(text, /deleted +0 untagged manifests, 1 blobs \(9\.8 KiB\), 1 layer links/);
    assert.equal((await fetch(`${berth.url}/v2/gc/cli/blobs/${digest}`, { method: 'HEAD' })).status, 404);
  });

  it('a second run while one holds the lease skips, naming the holder', async () => {
    await pushLoneBlob('gc/lease');
    const first = run(BERTH_BIN, ['gc', '--json'], { env: env({ BERTH_GC_DELETEDELAY: '3s' }) });
    // The first run holds the lease through its waits; give it time to take it.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const second = await runOk(BERTH_BIN, ['gc'], { env: env() });
    assert.match(second, /^skipped: .+ is collecting garbage on this store \(lease until /);
    const done = await first;
    assert.equal(done.code, 0, done.stderr);
    assert.equal((JSON.parse(done.stdout) as Report).deleted.blobs, 1);
  });

  it('a bad flag is a usage error naming it', async () => {
    const result = await run(BERTH_BIN, ['gc', '--now'], { env: env() });
    assert.equal(result.code, 1);
    assert.match(result.stderr, /gc: unexpected argument "--now"/);
  });
});
