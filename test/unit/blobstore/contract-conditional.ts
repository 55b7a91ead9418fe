/**
 * The versions and conditional writes part of the storage driver contract. A backend that
 * does not enforce conditions (`conditionalWrites: false`) must say so, and then its
 * conditional writes are plain writes: the tests assert that instead.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { isPreconditionFailed } from '../../../src/blobstore/driver.js';
import { type ContractContext, rejectsNotFound, rejectsPrecondition, textOf } from './contract-helpers.js';

/** Registers the version and conditional-write tests; call inside the contract's describe. */
export function conditionalContract(context: ContractContext): void {
  it('putContent, stat and getVersioned agree on versions, which change with every write', async () => {
    const { driver } = context;
    const first = await driver.putContent('/ver/file', Buffer.from('one'));
    assert.equal((await driver.stat('/ver/file')).version, first);
    assert.deepEqual(await driver.getVersioned('/ver/file'), { content: Buffer.from('one'), version: first });
    const second = await driver.putContent('/ver/file', Buffer.from('two'));
    assert.notEqual(second, first);
    assert.deepEqual(await driver.getVersioned('/ver/file'), {
      content: Buffer.from('two'),
      version: second,
    });
    const empty = await driver.putContent('/ver/marker', Buffer.alloc(0));
    assert.deepEqual(await driver.getVersioned('/ver/marker'), { content: Buffer.alloc(0), version: empty });
    await rejectsNotFound(driver.getVersioned('/ver/missing'));
  });

  it('ifNoneMatch creates a missing object, and fails on an existing one when enforced', async () => {
    const { driver } = context;
    const created = await driver.putContent('/cond/new', Buffer.from('first'), { ifNoneMatch: '*' });
    assert.equal((await driver.stat('/cond/new')).version, created);
    await driver.putContent('/cond/marker', Buffer.alloc(0), { ifNoneMatch: '*' });
    const again = driver.putContent('/cond/new', Buffer.from('second'), { ifNoneMatch: '*' });
    if (driver.conditionalWrites) {
      await rejectsPrecondition(again);
      await rejectsPrecondition(driver.putContent('/cond/marker', Buffer.alloc(0), { ifNoneMatch: '*' }));
      assert.equal(await textOf(driver, '/cond/new'), 'first');
    } else {
      await again;
      assert.equal(await textOf(driver, '/cond/new'), 'second');
    }
  });

  it('ifMatch with the current version replaces; with a stale one or on a missing object it fails when enforced', async () => {
    const { driver } = context;
    const first = await driver.putContent('/cond/obj', Buffer.from('v1'));
    const second = await driver.putContent('/cond/obj', Buffer.from('v2'), { ifMatch: first });
    assert.equal(await textOf(driver, '/cond/obj'), 'v2');
    assert.equal((await driver.getVersioned('/cond/obj')).version, second);
    // Both settle before either is judged, so neither rejection goes unhandled meanwhile.
    const [stale, missing] = await Promise.allSettled([
      driver.putContent('/cond/obj', Buffer.from('v3'), { ifMatch: first }),
      driver.putContent('/cond/none', Buffer.from('x'), { ifMatch: second }),
    ]);
    if (driver.conditionalWrites) {
      await rejectsPrecondition(settledAgain(stale));
      await rejectsPrecondition(settledAgain(missing));
      assert.equal(await textOf(driver, '/cond/obj'), 'v2');
      await rejectsNotFound(driver.stat('/cond/none'));
    } else {
      assert.deepEqual([stale.status, missing.status], ['fulfilled', 'fulfilled']);
      assert.equal(await textOf(driver, '/cond/obj'), 'v3');
    }
  });

  it('of concurrent ifMatch writers from one version exactly one succeeds when enforced', async () => {
    const { driver } = context;
    const start = await driver.putContent('/cond/race', Buffer.from('start'));
    const writers = Array.from({ length: 8 }, (_, i) => Buffer.from(`writer ${i}`));
    const outcomes = await Promise.allSettled(
      writers.map((content) => driver.putContent('/cond/race', content, { ifMatch: start })),
    );
    const won = outcomes.flatMap((outcome, i) => (outcome.status === 'fulfilled' ? [i] : []));
    const final = await driver.getVersioned('/cond/race');
    if (!driver.conditionalWrites) {
      assert.equal(won.length, writers.length);
      assert.ok(writers.some((content) => content.equals(final.content)));
      return;
    }
    assert.equal(won.length, 1, 'exactly one writer wins');
    for (const outcome of outcomes)
      if (outcome.status === 'rejected')
        assert.ok(isPreconditionFailed(outcome.reason), String(outcome.reason));
    const winner = won[0] ?? -1;
    assert.deepEqual(final.content, writers[winner]);
    const winning = outcomes[winner];
    assert.equal(winning?.status === 'fulfilled' ? winning.value : undefined, final.version);
  });

  it('a conditional read-modify-write loop loses no update when enforced', async () => {
    const { driver } = context;
    await driver.putContent('/cond/counter', Buffer.from('0'));
    const increment = async (): Promise<void> => {
      for (;;) {
        const { content, version } = await driver.getVersioned('/cond/counter');
        const next = Buffer.from(String(Number(content.toString()) + 1));
        try {
          await driver.putContent('/cond/counter', next, { ifMatch: version });
          return;
        } catch (err) {
          if (!isPreconditionFailed(err)) throw err;
        }
      }
    };
    await Promise.all(Array.from({ length: 15 }, increment));
    const count = Number(await textOf(driver, '/cond/counter'));
    if (driver.conditionalWrites) assert.equal(count, 15);
    else assert.ok(count >= 1 && count <= 15, `between 1 and 15: ${count}`);
  });
}

/** A settled outcome as a promise again, for the assertion helpers. */
function settledAgain<T>(outcome: PromiseSettledResult<T>): Promise<T> {
  return outcome.status === 'fulfilled' ? Promise.resolve(outcome.value) : Promise.reject(outcome.reason);
}
