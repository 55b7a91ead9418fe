/**
 * The lease on storage (src/registry/lease.ts), on the filesystem driver, each "process" with a
 * driver of its own over one root: racing acquirers, expiry and takeover, renewal, release, a
 * lost lease, and the best-effort mode of a store that ignores write conditions.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { orMissing, type StorageDriver, type WriteCondition } from '../../src/blobstore/driver.js';
import { createFilesystemDriver } from '../../src/blobstore/filesystem.js';
import { leasePath } from '../../src/blobstore/layout.js';
import { type LeaseOptions, type LeaseRecord, parseLease, withLease } from '../../src/registry/lease.js';
import { removeDir, tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';

const TTL = 300;

function gate() {
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { opened, open };
}

async function storedLease(driver: StorageDriver, name: string): Promise<LeaseRecord | undefined> {
  const content = await orMissing(driver.getContent(leasePath(name)), undefined);
  return content && parseLease(content);
}

describe('lease on storage', () => {
  let root: string;
  let first: StorageDriver;
  let second: StorageDriver;

  before(async () => {
    root = await tempDir('berth-lease-');
    first = await createFilesystemDriver({ rootDirectory: root });
    second = await createFilesystemDriver({ rootDirectory: root });
    assert.ok(first.conditionalWrites, 'the filesystem driver enforces write conditions');
  });
  after(() => removeDir(root));

  const options = (holder: string, extra: Partial<LeaseOptions> = {}): LeaseOptions => ({
    ttlMs: TTL,
    holder,
    ...extra,
  });

  /** Two processes race for `name`; resolves with how many ran the job and how many were turned away. */
  async function race(name: string): Promise<{ ran: number; turnedAway: number }> {
    const release = gate();
    let running = 0;
    const job = async () => {
      running += 1;
      await release.opened;
    };
    const outcomes = [withLease(first, name, options('a'), job), withLease(second, name, options('b'), job)];
    let settled = 0;
    for (const outcome of outcomes) void outcome.then(() => (settled += 1));
    // The loser returns while the winner still runs its job.
    await waitFor(() => settled === 1, 30_000);
    release.open();
    const results = await Promise.all(outcomes);
    return { ran: running, turnedAway: results.filter((result) => !result.ran).length };
  }

  it('of two processes racing for a free lease, exactly one runs the job', async () => {
    for (let round = 0; round < 20; round++) {
      assert.deepEqual(await race(`free-${round}`), { ran: 1, turnedAway: 1 }, `round ${round}`);
    }
  });

  it('of two processes racing for an expired lease, exactly one takes it over', async () => {
    for (let round = 0; round < 20; round++) {
      const name = `expired-${round}`;
      await first.putContent(
        leasePath(name),
        Buffer.from(JSON.stringify({ holder: 'gone', until: Date.now() - 1 })),
      );
      assert.deepEqual(await race(name), { ran: 1, turnedAway: 1 }, `round ${round}`);
    }
  });

  it('a holder that stopped renewing keeps the lease until it expires, then it is taken over', async () => {
    let clock = 1_000_000;
    const now = () => clock;
    const crashed: LeaseRecord = { holder: 'crashed', until: clock + TTL };
    await first.putContent(leasePath('takeover'), Buffer.from(JSON.stringify(crashed)));
    const early = await withLease(second, 'takeover', options('b', { now }), async () => 'ran');
    assert.deepEqual(early, { ran: false, heldBy: crashed });
    clock += TTL + 1;
    const late = await withLease(second, 'takeover', options('b', { now }), async () =>
      storedLease(first, 'takeover'),
    );
    assert.equal(late.ran, true);
    assert.equal(late.ran && late.value?.holder, 'b', 'the lease names its new holder while the job runs');
  });

  it('renewal keeps the lease past its first term, and it is given back at the end', async () => {
    const start = 5_000_000;
    let clock = start;
    const now = () => clock;
    const finish = gate();
    const holding = withLease(first, 'renewed', options('a', { now }), () => finish.opened);
    await waitFor(async () => (await storedLease(first, 'renewed'))?.holder === 'a', 30_000);
    clock = start + TTL - 10;
    await waitFor(async () => ((await storedLease(first, 'renewed'))?.until ?? 0) >= clock + TTL, 30_000);
    clock = start + TTL + 10;
    const meanwhile = await withLease(second, 'renewed', options('b', { now }), async () => 'ran');
    assert.equal(meanwhile.ran, false, 'past its first term the lease is still held');
    finish.open();
    await holding;
    const next = await withLease(second, 'renewed', options('b', { now }), async () => 'ran');
    assert.deepEqual(
      next,
      { ran: true, value: 'ran' },
      'given back: taken at once, without waiting for it to expire',
    );
  });

  it('a holder whose lease was taken over learns it at its next renewal', async () => {
    const finish = gate();
    let signal: AbortSignal | undefined;
    const holding = withLease(first, 'lost', options('a'), async (lease) => {
      signal = lease.signal;
      await finish.opened;
    });
    await waitFor(() => signal !== undefined, 30_000);
    await second.putContent(
      leasePath('lost'),
      Buffer.from(JSON.stringify({ holder: 'b', until: Date.now() + 60_000 })),
    );
    await waitFor(() => signal?.aborted === true, 30_000);
    finish.open();
    await holding;
    assert.equal(
      (await storedLease(first, 'lost'))?.holder,
      'b',
      'the loser does not give back what is not its own',
    );
  });

  it('a job that fails gives the lease back and its error is passed on', async () => {
    await assert.rejects(
      withLease(first, 'failing', options('a'), async () => {
        throw new Error('the job failed');
      }),
      /the job failed/,
    );
    assert.equal((await storedLease(first, 'failing'))?.until, 0);
  });

  it('on a store that ignores conditions, a process whose write another overwrote backs off', async () => {
    const winner: LeaseRecord = { holder: 'b', until: Date.now() + 60_000 };
    const racing: StorageDriver = {
      ...withoutConditions(first),
      async putContent(path, content) {
        await first.putContent(path, content);
        // b's write, racing a's, lands last.
        return first.putContent(path, Buffer.from(JSON.stringify(winner)));
      },
    };
    assert.deepEqual(await withLease(racing, 'best-effort', options('a'), async () => 'ran'), {
      ran: false,
      heldBy: winner,
    });
    const alone = await withLease(
      withoutConditions(second),
      'best-effort-alone',
      options('b'),
      async () => 'ran',
    );
    assert.deepEqual(alone, { ran: true, value: 'ran' });
  });
});

/** `driver` as a store that ignores write conditions. */
function withoutConditions(driver: StorageDriver): StorageDriver {
  return {
    ...driver,
    conditionalWrites: false,
    putContent: (path: string, content: Uint8Array, _condition?: WriteCondition) =>
      driver.putContent(path, content),
  };
}
