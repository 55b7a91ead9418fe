/**
 * What the S3 driver finds out once, at start-up: that the bucket answers at all (else Berth
 * stops with a message naming bucket and endpoint), and whether the store enforces conditional
 * writes. AWS S3, MinIO, R2 and Ceph do; some S3-compatible stores ignore the headers (the
 * write simply happens) or refuse them, and then a conditional write has to be a plain one.
 */
import { randomUUID } from 'node:crypto';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { isPreconditionFailed } from './driver.js';
import { describeFailure, statusOf } from './s3-errors.js';
import { deleteObject, putObject } from './s3-objects.js';
import type { S3Store } from './s3-store.js';

/** Resolves once the bucket answers; rejects with a message naming `where` otherwise. */
export async function checkBucket(store: S3Store, where: string): Promise<void> {
  try {
    await store.client.send(new HeadBucketCommand({ Bucket: store.bucket }));
  } catch (err) {
    const status = statusOf(err);
    const reason =
      status === 404
        ? 'the bucket does not exist'
        : status === 403
          ? 'access denied: check storage.s3.accesskey/secretkey or the credentials in the environment'
          : describeFailure(err);
    throw new Error(`cannot use bucket "${store.bucket}" at ${where}: ${reason}`);
  }
}

/**
 * True when the store refuses both a second `If-None-Match: *` create and an `If-Match` with
 * a wrong ETag, with 412. The probe object (under `_probe/` in the root directory) is removed
 * when the store lets it be.
 */
export async function probeConditionalWrites(store: S3Store): Promise<boolean> {
  const path = `/_probe/${randomUUID()}`;
  const body = new TextEncoder().encode('berth conditional write probe');
  try {
    const created = await refusedWith412(() => putObject(store, path, body, { ifNoneMatch: '*' }));
    if (created !== false) return false;
    const exists = await refusedWith412(() => putObject(store, path, body, { ifNoneMatch: '*' }));
    const stale = await refusedWith412(() => putObject(store, path, body, { ifMatch: '"berth-probe"' }));
    return exists === true && stale === true;
  } finally {
    // Best effort: a probe object left behind costs a few bytes, while failing start-up over
    // its cleanup would stop a replica whose store just answered every probe write.
    await deleteObject(store, path).catch(() => {});
  }
}

/**
 * True when the write was refused with 412, false when it happened, undefined when the store
 * refused the condition header itself (400 or 501): it does not support it.
 */
async function refusedWith412(write: () => Promise<unknown>): Promise<boolean | undefined> {
  try {
    await write();
    return false;
  } catch (err) {
    if (isPreconditionFailed(err)) return true;
    const status = statusOf((err as { cause?: unknown }).cause ?? err);
    if (status === 400 || status === 501) return undefined;
    throw err;
  }
}
