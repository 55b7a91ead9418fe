/** `npm run bench` options: --storage, --workers, --publish-mib, and the table header they label. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { parseOptions, UsageError } from '../../bench/options.js';
import { processTree, treePeakRss } from '../../bench/process-tree.js';
import { renderComparison } from '../../bench/report.js';

/** Asserts that `argv` is refused with a usage error whose message matches `message`. */
function refused(argv: string[], message: RegExp): void {
  assert.throws(
    () => parseOptions(argv),
    (error: unknown) => error instanceof UsageError && message.test(error.message),
  );
}

describe('bench options', () => {
  it('defaults to the filesystem, one process and a 1 GiB publish that runs only when named', () => {
    const options = parseOptions([]);
    assert.equal(options.storage, 'fs');
    assert.equal(options.workers, 1);
    assert.equal(options.publishMiB, 1024);
    assert.ok(!options.only.includes('publish-1g'), options.only.join(','));
    assert.ok(options.only.includes('pull'), options.only.join(','));
  });

  it('takes --storage s3, --workers and --publish-mib', () => {
    const options = parseOptions([
      '--storage',
      's3',
      '--workers',
      '2',
      '--publish-mib',
      '64',
      '--only',
      'publish-1g',
    ]);
    assert.equal(options.storage, 's3');
    assert.equal(options.workers, 2);
    assert.equal(options.publishMiB, 64);
    assert.deepEqual(options.only, ['publish-1g']);
  });

  it('refuses an unknown storage', () => {
    refused(['--storage', 'gcs'], /^--storage expects fs or s3, got "gcs"$/);
    refused(['--storage', ''], /^--storage expects fs or s3/);
  });

  it('refuses a worker count that is not a positive whole number', () => {
    for (const workers of ['0', '-1', '1.5', 'two', 'auto']) {
      refused([`--workers=${workers}`], /^--workers expects a positive integer/);
    }
    refused(['--publish-mib', '0'], /^--publish-mib expects a positive integer/);
  });

  it('refuses --compare with --storage s3, since distribution runs on its filesystem', () => {
    refused(['--compare', '--storage', 's3'], /--compare .* --storage s3/);
    assert.equal(parseOptions(['--compare', '--workers', '2']).workers, 2);
  });
});

describe('bench table header', () => {
  const rows = [
    {
      key: 'peak-rss',
      title: 'peak RSS',
      unit: 'MiB',
      berth: 90,
      distribution: 50,
      ratio: 1.8,
      target: 1.5,
      lowerIsBetter: true,
      met: false,
    },
  ];

  it('names the storage and the workers Berth ran with', () => {
    const header = renderComparison(rows, false, { auth: 'none', storage: 's3', workers: 2 }).split('\n')[0];
    assert.match(header ?? '', /berth \(s3, 2 workers\)/);
  });

  it('names the filesystem for both servers when comparing', () => {
    const header = renderComparison(rows, true, { auth: 'token', storage: 'fs', workers: 1 }).split('\n')[0];
    assert.match(header ?? '', /berth \(fs, token auth\) .*distribution \(fs, no auth\)/);
  });
});

describe('bench process tree', () => {
  it('finds a forked child and reports a peak for each process', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      assert.ok(child.pid !== undefined);
      assert.deepEqual(processTree(process.pid).slice(0, 1), [process.pid]);
      assert.ok(processTree(process.pid).includes(child.pid), 'the child is in the tree');
      const peaks = treePeakRss(process.pid);
      assert.ok(peaks.some((peak) => peak.pid === child.pid && peak.peakMiB > 0));
    } finally {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
  });
});
