import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { type StorageDriver, StorageFullError } from '../../src/blobstore/driver.js';
import { isRegistryError } from '../../src/registry/errors.js';
import { FULL_WINDOW_MS, type SpaceReport, watchStorageSpace } from '../../src/registry/storage-space.js';

describe('storage space watch', () => {
  it('turns refused writes into 507, reports once per window and forgets a full disk after it', async () => {
    let clock = 1_000_000;
    let refusals = 0;
    const reports: SpaceReport[] = [];
    const inner = {
      name: 'fake',
      putContent: async (path: string) => {
        if (path === '/full') throw new StorageFullError(path);
        if (path === '/broken') throw new Error('disk on fire');
      },
    } as unknown as StorageDriver;
    const { driver, space } = watchStorageSpace(inner, {
      now: () => clock,
      onRefused: () => refusals++,
      onReport: (report) => reports.push(report),
    });
    const refused = (at: number) => {
      clock = at;
      return driver.putContent('/full', Buffer.from('x')).then(
        () => assert.fail('expected a refusal'),
        (err: unknown) => assert.ok(isRegistryError(err) && err.status === 507),
      );
    };

    assert.equal(space.fullSince(), undefined);
    await refused(1_000_000);
    await refused(1_010_000);
    await refused(1_000_000 + FULL_WINDOW_MS - 1);
    assert.equal(refusals, 3);
    assert.deepEqual(reports, [{ refused: 1, since: new Date(1_000_000) }]);
    assert.deepEqual(space.fullSince(), new Date(1_000_000));
    await refused(1_000_000 + FULL_WINDOW_MS + 5);
    assert.deepEqual(reports[1], { refused: 3, since: new Date(1_000_000) });

    clock += FULL_WINDOW_MS;
    assert.equal(space.fullSince(), undefined, 'no refusal for a whole window: no longer full');
    await refused(clock + 10);
    assert.deepEqual(space.fullSince(), new Date(clock), 'a new run of refusals starts anew');
    await assert.rejects(driver.putContent('/broken', Buffer.from('x')), /disk on fire/);
    await driver.putContent('/fine', Buffer.from('x'));
  });

  it('staged writes and commits refused for lack of space are 507 too; conditions reach the driver', async () => {
    const conditions: unknown[] = [];
    const full = async (staged: unknown) => {
      throw new StorageFullError(JSON.stringify(staged));
    };
    const inner = {
      name: 'fake',
      conditionalWrites: true,
      putContent: async (_path: string, _content: Uint8Array, condition: unknown) => {
        conditions.push(condition);
        return 'v1';
      },
      staged: { write: full, commit: full },
    } as unknown as StorageDriver;
    let refusals = 0;
    const { driver } = watchStorageSpace(inner, { onRefused: () => refusals++ });
    const is507 = (err: unknown) => isRegistryError(err) && err.status === 507;
    await assert.rejects(driver.staged.write({ size: 0 }, Readable.from([])), is507);
    await assert.rejects(driver.staged.commit({ size: 0 }, '/blobs/x'), is507);
    assert.equal(refusals, 2);
    assert.equal(await driver.putContent('/tag', Buffer.from('x'), { ifNoneMatch: '*' }), 'v1');
    assert.deepEqual(conditions, [{ ifNoneMatch: '*' }]);
    assert.equal(driver.conditionalWrites, true);
  });
});
