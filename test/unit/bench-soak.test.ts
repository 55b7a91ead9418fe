import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { judgeLevelOff, type RssPoint } from '../../bench/level-off.js';
import { parseOptions, UsageError } from '../../bench/options.js';
import { processTree, processTreeRssMiB } from '../../bench/process-tree.js';
import { heapSplit } from '../../bench/server-memory.js';

const LIMITS = { toleranceMiB: 5, limitMiB: 200 };

/** A reading every 30 s for `minutes`, RSS given by `rss(seconds)`. */
function series(minutes: number, rss: (seconds: number) => number): RssPoint[] {
  return Array.from({ length: minutes * 2 + 1 }, (_, i) => ({ elapsedSeconds: i * 30, rssMiB: rss(i * 30) }));
}

describe('soak: RSS of a process tree', () => {
  it('sums the process and its children, and leaves out its parent', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    try {
      await once(child, 'spawn');
      const childPid = child.pid as number;
      const tree = processTree(process.pid);
      assert.ok(tree.includes(process.pid));
      assert.ok(tree.includes(childPid), `child ${childPid} missing from ${tree.join(', ')}`);
      assert.ok(!tree.includes(process.ppid));
      assert.deepEqual(processTree(childPid), [childPid]);
      const own = processTreeRssMiB(childPid);
      assert.ok(own > 1, `the child's RSS is ${own} MiB`);
      // Our own heap does not shrink by the child's size between two reads, so the sum shows it.
      const withChild = processTreeRssMiB(process.pid);
      assert.ok(withChild >= own + process.memoryUsage().rss / 1024 / 1024 / 2);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('reads 0 for a process that does not exist', () => {
    assert.equal(processTreeRssMiB(2 ** 22 + 1), 0);
  });
});

describe('soak: level-off judgement', () => {
  it('the growth the issue reported (99 to 251 MiB in 8 minutes, 290 in 4 more) does not level off', () => {
    const verdict = judgeLevelOff(
      series(12, (s) => (s <= 480 ? 99 + (s * 152) / 480 : 251 + ((s - 480) * 39) / 240)),
      LIMITS,
    );
    assert.equal(verdict.levelledOff, false);
    assert.equal(verdict.withinLimit, false);
    assert.equal(verdict.maxMiB, 290);
    assert.ok(verdict.growthMiB > 50, `growth ${verdict.growthMiB}`);
  });

  it('a ramp, then a saw-tooth around a level, levels off below the limit', () => {
    const verdict = judgeLevelOff(
      series(10, (s) => (s < 180 ? 70 + s / 3 : 130 + (s % 60 === 0 ? 4 : -4))),
      LIMITS,
    );
    assert.equal(verdict.levelledOff, true);
    assert.equal(verdict.withinLimit, true);
    assert.equal(verdict.maxMiB, 134);
    assert.equal(verdict.lastMiB, 134);
    assert.ok(Math.abs(verdict.growthMiB) < 1, `growth ${verdict.growthMiB}`);
  });

  it('slow growth in the last half counts against the tolerance', () => {
    const slow = judgeLevelOff(
      series(10, (s) => 150 + s / 100),
      LIMITS,
    );
    assert.equal(slow.levelledOff, true, `3 MiB in 5 minutes: growth ${slow.growthMiB}`);
    const faster = judgeLevelOff(
      series(10, (s) => 150 + s / 50),
      LIMITS,
    );
    assert.equal(faster.levelledOff, false, `6 MiB in 5 minutes: growth ${faster.growthMiB}`);
  });

  it('level but above the limit is reported as such', () => {
    const verdict = judgeLevelOff(
      series(10, () => 230),
      LIMITS,
    );
    assert.equal(verdict.levelledOff, true);
    assert.equal(verdict.withinLimit, false);
  });

  it('splits the run at its middle reading even when that came a moment before half the time', () => {
    const readings = [
      { elapsedSeconds: 0, rssMiB: 70 },
      { elapsedSeconds: 30.001, rssMiB: 90 },
      { elapsedSeconds: 60.004, rssMiB: 100 },
    ];
    const verdict = judgeLevelOff(readings, LIMITS);
    assert.ok(Math.abs(verdict.growthMiB - 10) < 0.01, `growth ${verdict.growthMiB}`);
    assert.equal(verdict.levelledOff, false);
  });

  it('one reading says nothing about growth', () => {
    const verdict = judgeLevelOff([{ elapsedSeconds: 0, rssMiB: 80 }], LIMITS);
    assert.ok(Number.isNaN(verdict.growthMiB));
    assert.equal(verdict.levelledOff, false);
  });
});

describe('soak: options', () => {
  it('runs only when named, for --soak-minutes (default 10)', () => {
    assert.ok(!parseOptions([]).only.includes('soak'));
    const named = parseOptions(['--only', 'soak']);
    assert.deepEqual(named.only, ['soak']);
    assert.equal(named.soakMinutes, 10);
    assert.equal(parseOptions(['--only', 'soak', '--soak-minutes', '0.5']).soakMinutes, 0.5);
    assert.throws(() => parseOptions(['--soak-minutes', '0']), UsageError);
  });
});

describe("soak: the server's heap split", () => {
  it('reads heap used and external memory from the metrics text', () => {
    const metrics = [
      '# HELP berth_nodejs_heap_size_used_bytes Process heap size used from Node.js in bytes.',
      '# TYPE berth_nodejs_heap_size_used_bytes gauge',
      'berth_nodejs_heap_size_used_bytes 41943040',
      'berth_nodejs_heap_space_size_used_bytes{space="old"} 1',
      'berth_nodejs_external_memory_bytes 3145728',
    ].join('\n');
    assert.deepEqual(heapSplit(metrics), { heapUsedMiB: 40, externalMiB: 3 });
    assert.equal(heapSplit('berth_nodejs_heap_size_used_bytes 1'), undefined);
  });
});
