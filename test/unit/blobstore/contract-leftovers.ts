/**
 * The leftovers part of the storage driver contract: what interrupted writes leave is listed,
 * by age, at or below the path its staged object started at, and can be removed; nothing a
 * committed object uses, and no ordinary object, is ever listed.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { it } from 'node:test';
import type { Leftover, StorageDriver } from '../../../src/blobstore/driver.js';
import { type ContractContext, sourceOf, textOf } from './contract-helpers.js';

/** Every leftover the driver lists below `/data` last written before `before`. */
async function leftoversBefore(driver: StorageDriver, before: Date): Promise<Leftover[]> {
  const found: Leftover[] = [];
  for await (const leftover of driver.leftovers.list('/data', before)) found.push(leftover);
  return found;
}

const MIB = 1024 * 1024;

/** Registers the leftovers tests; call inside the contract's describe. */
export function leftoversContract(context: ContractContext): void {
  it('leftovers: an abandoned staged object is listed below its path, by age, and removed', async () => {
    const { driver } = context;
    await driver.putContent('/tags/kept', Buffer.from('a tag'));
    const committed = await driver.staged.write(await driver.staged.start('/data/aa/done'), sourceOf('blob'));
    await driver.staged.commit(committed, '/blobs/aa/done');
    // Larger than one S3 part, so an S3 driver leaves a multipart upload too.
    const big = randomBytes(5 * MIB + 100);
    const abandoned = await driver.staged.write(
      await driver.staged.start('/data/bb/gone'),
      Readable.from([big]),
    );

    assert.deepEqual(await leftoversBefore(driver, new Date(Date.now() - 3_600_000)), [], 'none is that old');
    const found = await leftoversBefore(driver, new Date(Date.now() + 60_000));
    assert.ok(found.length > 0, 'the abandoned staged object left something');
    for (const leftover of found) {
      assert.ok(leftover.path.startsWith('/data/bb/gone'), `${leftover.kind} at ${leftover.path}`);
      assert.ok(leftover.modTime instanceof Date);
    }

    for (const leftover of found) await driver.leftovers.remove(leftover);
    await driver.leftovers.remove(found[0] as Leftover);
    assert.deepEqual(await leftoversBefore(driver, new Date(Date.now() + 60_000)), []);
    await driver.staged.discard(abandoned);
    assert.equal(await textOf(driver, '/blobs/aa/done'), 'blob');
    assert.equal(await textOf(driver, '/tags/kept'), 'a tag');
  });
}
