import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startMemoryGovernor } from '../../src/runtime/memory-governor.js';

describe('memory governor', () => {
  it('asks for a young-generation collection once external memory grows past the threshold', async () => {
    const calls: unknown[] = [];
    const holder = globalThis as { gc?: unknown };
    const original = holder.gc;
    holder.gc = (options: unknown) => calls.push(options);
    const stop = startMemoryGovernor({ threshold: 4 * 1024 * 1024, intervalMs: 5 });
    try {
      await new Promise((resolve) => setTimeout(resolve, 30));
      assert.equal(calls.length, 0, 'nothing to do while memory is flat');
      const kept = Array.from({ length: 8 }, () => Buffer.allocUnsafeSlow(1024 * 1024));
      await new Promise((resolve) => setTimeout(resolve, 30));
      assert.ok(kept.length === 8 && calls.length >= 1, 'collected after 8 MiB of new buffers');
      assert.deepEqual(calls[0], { type: 'minor' });
    } finally {
      stop();
      holder.gc = original;
    }
  });

  it('does nothing when gc is not exposed', () => {
    const holder = globalThis as { gc?: unknown };
    const original = holder.gc;
    holder.gc = undefined;
    try {
      const stop = startMemoryGovernor();
      assert.equal(typeof stop, 'function');
      stop();
    } finally {
      holder.gc = original;
    }
  });
});
