/** The multipart-upload requests of staged writes, addressed by driver path. */
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { isNoSuchUpload } from './s3-errors.js';
import type { S3Store } from './s3-store.js';

/** One uploaded part, as CompleteMultipartUpload needs it. */
export interface UploadedPart {
  n: number;
  etag: string;
  size: number;
}

/** Highest part number S3 accepts. */
export const MAX_PART_NUMBER = 10_000;

/** Starts a multipart upload whose object will be at `path`; resolves with its id. */
export async function createUpload(store: S3Store, path: string): Promise<string> {
  const out = await store.call('write', path, () =>
    store.client.send(new CreateMultipartUploadCommand({ Bucket: store.bucket, Key: store.key(path) })),
  );
  if (!out.UploadId) throw new Error(`S3 started a multipart upload of ${path} without an upload id`);
  return out.UploadId;
}

/** Uploads (or re-uploads) part `n`; resolves with the part as recorded. */
export async function uploadPart(
  store: S3Store,
  path: string,
  uploadId: string,
  n: number,
  body: Buffer,
): Promise<UploadedPart> {
  if (n > MAX_PART_NUMBER)
    throw new Error(
      `${path} needs more than ${MAX_PART_NUMBER} parts: raise storage.s3.chunksize or send larger chunks`,
    );
  const out = await store.call('write', path, () =>
    store.client.send(
      new UploadPartCommand({
        Bucket: store.bucket,
        Key: store.key(path),
        UploadId: uploadId,
        PartNumber: n,
        Body: body,
        ContentLength: body.length,
      }),
    ),
  );
  return { n, etag: out.ETag ?? '', size: body.length };
}

/**
 * Completes the upload from `parts` (in ascending order; parts uploaded but not listed are
 * dropped). Resolves false when the upload no longer exists (completed or aborted before).
 */
export async function completeUpload(
  store: S3Store,
  path: string,
  uploadId: string,
  parts: UploadedPart[],
): Promise<boolean> {
  try {
    await store.call('commit', path, () =>
      store.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: store.bucket,
          Key: store.key(path),
          UploadId: uploadId,
          MultipartUpload: { Parts: parts.map((part) => ({ PartNumber: part.n, ETag: part.etag })) },
        }),
      ),
    );
    return true;
  } catch (err) {
    if (isNoSuchUpload(err)) return false;
    throw err;
  }
}

/** Aborts an upload, dropping its parts; one that no longer exists is fine. */
export async function abortUpload(store: S3Store, path: string, uploadId: string): Promise<void> {
  try {
    await store.call('discard', path, () =>
      store.client.send(
        new AbortMultipartUploadCommand({ Bucket: store.bucket, Key: store.key(path), UploadId: uploadId }),
      ),
    );
  } catch (err) {
    if (!isNoSuchUpload(err)) throw err;
  }
}
