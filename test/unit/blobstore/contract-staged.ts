/**
 * The staged-writes part of the storage driver contract. Every staged object a test starts is
 * committed or discarded by its end, so backends that keep pending uploads (S3 multipart
 * uploads) show them as leftovers when they are not.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { it } from 'node:test';
import {
  type ContractContext,
  failingSource,
  persisted,
  readAll,
  rejectsNotFound,
  sourceOf,
  textOf,
} from './contract-helpers.js';

/** Registers the staged-writes tests; call inside the contract's describe. */
export function stagedContract(context: ContractContext): void {
  it('staged: several writes then commit make one object; records survive JSON', async () => {
    const { driver } = context;
    let staged = persisted(await driver.staged.start('/data/aa/one'));
    assert.equal(staged.size, 0);
    staged = persisted(await driver.staged.write(staged, sourceOf('abc')));
    assert.equal(staged.size, 3);
    staged = persisted(await driver.staged.write(staged, sourceOf('de', 'f')));
    assert.equal(staged.size, 6);
    staged = persisted(await driver.staged.write(staged, Readable.from([])));
    assert.equal(staged.size, 6);
    await driver.staged.commit(staged, '/blobs/aa/one');
    assert.equal(await textOf(driver, '/blobs/aa/one'), 'abcdef');
    assert.equal((await driver.stat('/blobs/aa/one')).size, 6);
  });

  it('staged: many megabytes stream through intact', async () => {
    const { driver } = context;
    const chunk = randomBytes(1024 * 1024);
    const hash = createHash('sha256');
    const pieces = Array.from({ length: 24 }, (_, i) => {
      const piece = Buffer.from(chunk);
      piece.writeUInt32BE(i, 0);
      hash.update(piece);
      return piece;
    });
    let staged = await driver.staged.start('/data/bb/big');
    staged = await driver.staged.write(staged, Readable.from(pieces.slice(0, 7)));
    staged = await driver.staged.write(staged, Readable.from(pieces.slice(7)));
    assert.equal(staged.size, 24 * 1024 * 1024);
    await driver.staged.commit(staged, '/blobs/bb/big');
    const readBack = createHash('sha256');
    for await (const piece of await driver.reader('/blobs/bb/big')) readBack.update(piece as Buffer);
    assert.equal(readBack.digest('hex'), hash.digest('hex'));
  });

  it('staged: commit replaces an existing object', async () => {
    const { driver } = context;
    await driver.putContent('/blobs/cc/target', Buffer.from('old content'));
    const staged = await driver.staged.write(await driver.staged.start('/data/cc/new'), sourceOf('new'));
    await driver.staged.commit(staged, '/blobs/cc/target');
    assert.equal(await textOf(driver, '/blobs/cc/target'), 'new');
  });

  it('staged: a failing source leaves the bytes of the record, and a retry from it works', async () => {
    const { driver } = context;
    const kept = await driver.staged.write(await driver.staged.start('/data/dd/fail'), sourceOf('kept-'));
    for (const source of [failingSource(Buffer.from('partial')), failingSource(randomBytes(3 * 1024 * 1024))])
      await assert.rejects(driver.staged.write(persisted(kept), source), /client went away/);
    async function* rejectedAtTheEnd() {
      yield Buffer.from('abc');
      throw new Error('chunk length does not match');
    }
    await assert.rejects(driver.staged.write(kept, Readable.from(rejectedAtTheEnd())), /does not match/);
    const retried = await driver.staged.write(persisted(kept), sourceOf('more'));
    assert.equal(retried.size, 9);
    await driver.staged.commit(retried, '/blobs/dd/fail');
    assert.equal(await textOf(driver, '/blobs/dd/fail'), 'kept-more');
  });

  it('staged: bytes of a write that failed midway never reach the committed object', async () => {
    const { driver } = context;
    const first = await driver.staged.write(await driver.staged.start('/data/ee/crash'), sourceOf('abc'));
    await assert.rejects(driver.staged.write(first, failingSource(Buffer.from('junk'))), /went away/);
    await driver.staged.commit(first, '/blobs/ee/only-first');
    assert.equal(await textOf(driver, '/blobs/ee/only-first'), 'abc');

    const again = await driver.staged.write(await driver.staged.start('/data/ee/again'), sourceOf('abc'));
    await assert.rejects(driver.staged.write(again, failingSource(Buffer.from('junk'))), /went away/);
    const second = await driver.staged.write(again, sourceOf('def'));
    await driver.staged.commit(second, '/blobs/ee/both');
    assert.equal(await textOf(driver, '/blobs/ee/both'), 'abcdef');
  });

  it('staged: a write from an older record supersedes the later bytes; committing a superseded record fails', async () => {
    const { driver } = context;
    const first = await driver.staged.write(await driver.staged.start('/data/ff/retry'), sourceOf('abc'));
    const lost = await driver.staged.write(first, sourceOf('def'));
    // The process that wrote `lost` died before saving it; the next one retries from `first`.
    const redone = await driver.staged.write(persisted(first), sourceOf('WXYZ'));
    assert.equal(redone.size, 7);
    await assert.rejects(driver.staged.commit(lost, '/blobs/ff/retry'));
    await rejectsNotFound(driver.stat('/blobs/ff/retry'));
    await driver.staged.commit(redone, '/blobs/ff/retry');
    assert.equal(await textOf(driver, '/blobs/ff/retry'), 'abcWXYZ');
  });

  it('staged: an object never written, or written with nothing, commits as an empty object', async () => {
    const { driver } = context;
    await driver.staged.commit(await driver.staged.start('/data/gg/never'), '/blobs/gg/never');
    assert.equal((await driver.getContent('/blobs/gg/never')).length, 0);
    assert.equal((await driver.stat('/blobs/gg/never')).size, 0);
    const nothing = await driver.staged.write(
      await driver.staged.start('/data/gg/nothing'),
      Readable.from([]),
    );
    assert.equal(nothing.size, 0);
    await driver.staged.commit(nothing, '/blobs/gg/nothing');
    assert.equal((await driver.getContent('/blobs/gg/nothing')).length, 0);
  });

  it('staged: discard drops everything written, is idempotent, and a discarded object cannot be committed', async () => {
    const { driver } = context;
    const staged = await driver.staged.write(await driver.staged.start('/data/hh/gone'), sourceOf('bytes'));
    await driver.staged.discard(persisted(staged));
    await driver.staged.discard(staged);
    await driver.staged.discard(await driver.staged.start('/data/hh/never'));
    await assert.rejects(driver.staged.commit(staged, '/blobs/hh/gone'));
    await rejectsNotFound(driver.stat('/blobs/hh/gone'));
  });

  it('staged: a committed object reads with ranges, stats, lists, moves and deletes like any other', async () => {
    const { driver } = context;
    const data = randomBytes(200_000);
    let staged = await driver.staged.start('/data/ii/any');
    staged = await driver.staged.write(staged, Readable.from([data.subarray(0, 70_000)]));
    staged = await driver.staged.write(staged, Readable.from([data.subarray(70_000)]));
    await driver.staged.commit(staged, '/blobs/ii/any');
    assert.deepEqual(
      await readAll(await driver.reader('/blobs/ii/any', 65_000, 10_000)),
      data.subarray(65_000, 75_000),
    );
    const info = await driver.stat('/blobs/ii/any');
    assert.equal(info.size, 200_000);
    assert.equal(info.isDir, false);
    assert.deepEqual(await driver.list('/blobs/ii'), ['any']);
    await driver.move('/blobs/ii/any', '/blobs/jj/moved');
    assert.deepEqual(await readAll(await driver.reader('/blobs/jj/moved')), data);
    await rejectsNotFound(driver.stat('/blobs/ii/any'));
    await driver.delete('/blobs/jj/moved');
    await rejectsNotFound(driver.getContent('/blobs/jj/moved'));
  });
}
