/** Small helpers shared by the parts of the storage driver contract suite. */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import {
  isNotFound,
  isPreconditionFailed,
  type StagedObject,
  type StorageDriver,
} from '../../../src/blobstore/driver.js';

/** The driver of the test that is running (the suite creates one per test). */
export interface ContractContext {
  readonly driver: StorageDriver;
}

/** Everything a stream yields, as one buffer. */
export async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Asserts that `promise` rejects with PathNotFoundError. */
export async function rejectsNotFound(promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (err: unknown) => isNotFound(err));
}

/** Asserts that `promise` rejects with PreconditionFailedError. */
export async function rejectsPrecondition(promise: Promise<unknown>): Promise<void> {
  await assert.rejects(promise, (err: unknown) => isPreconditionFailed(err));
}

/** A source that yields `good`, then fails as a client that went away. */
export function failingSource(good: Buffer): Readable {
  let sent = false;
  return new Readable({
    read() {
      if (!sent) {
        sent = true;
        this.push(good);
        return;
      }
      this.destroy(new Error('client went away'));
    },
  });
}

/** A source of the given pieces. */
export function sourceOf(...pieces: string[]): Readable {
  return Readable.from(pieces.map((piece) => Buffer.from(piece)));
}

/** The record as the caller keeps it between steps: through JSON, in the session's state. */
export function persisted(staged: StagedObject): StagedObject {
  return JSON.parse(JSON.stringify(staged)) as StagedObject;
}

/** Content as text. */
export async function textOf(driver: StorageDriver, path: string): Promise<string> {
  return (await driver.getContent(path)).toString();
}
