/**
 * Single S3 requests the rest of the driver is built from, each addressed by driver path and
 * failing with the driver's errors.
 */
import { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandInput,
  type ListObjectsV2CommandOutput,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { StorageUnavailableError } from './driver.js';
import { isMissingKey, toDriverError } from './s3-errors.js';
import type { S3Store } from './s3-store.js';

/** What HeadObject tells about an object. */
export interface ObjectHead {
  size: number;
  etag: string;
  modTime: Date;
  metadata: Record<string, string>;
}

/** The object's head, or undefined when there is no object at `path`. */
export async function headObject(store: S3Store, path: string): Promise<ObjectHead | undefined> {
  try {
    const out = await store.client.send(
      new HeadObjectCommand({ Bucket: store.bucket, Key: store.key(path) }),
    );
    return {
      size: out.ContentLength ?? 0,
      etag: out.ETag ?? '',
      modTime: out.LastModified ?? new Date(0),
      metadata: out.Metadata ?? {},
    };
  } catch (err) {
    if (isMissingKey(err)) return undefined;
    throw toDriverError(err, path, 'stat');
  }
}

/** GetObject of `path`, optionally of an inclusive byte range. */
export function getObject(
  store: S3Store,
  path: string,
  range?: { start: number; end: number },
): Promise<GetObjectCommandOutput> {
  const rangeHeader = range ? { Range: `bytes=${range.start}-${range.end}` } : {};
  return store.call('read', path, () =>
    store.client.send(new GetObjectCommand({ Bucket: store.bucket, Key: store.key(path), ...rangeHeader })),
  );
}

/** The body of a GetObject answer as a stream. */
export function bodyStream(out: GetObjectCommandOutput): Readable {
  if (out.Body instanceof Readable) return out.Body;
  throw new StorageUnavailableError('S3 answered a read without a body stream');
}

/** The whole body of a GetObject answer. */
export async function bodyBytes(store: S3Store, path: string, out: GetObjectCommandOutput): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await store.call('read', path, async () => {
    for await (const chunk of bodyStream(out)) chunks.push(chunk as Buffer);
  });
  return Buffer.concat(chunks);
}

/** Extra headers of a PutObject. */
export interface PutOptions {
  metadata?: Record<string, string>;
  ifMatch?: string;
  ifNoneMatch?: '*';
}

/** PutObject of a small object; resolves with its ETag. */
export async function putObject(
  store: S3Store,
  path: string,
  content: Uint8Array,
  options: PutOptions = {},
): Promise<string> {
  const out = await store.call('write', path, () =>
    store.client.send(
      new PutObjectCommand({
        Bucket: store.bucket,
        Key: store.key(path),
        Body: content,
        ContentLength: content.length,
        ...(options.metadata ? { Metadata: options.metadata } : {}),
        ...(options.ifMatch !== undefined ? { IfMatch: options.ifMatch } : {}),
        ...(options.ifNoneMatch !== undefined ? { IfNoneMatch: options.ifNoneMatch } : {}),
      }),
    ),
  );
  return out.ETag ?? '';
}

/** DeleteObject; S3 answers the same whether or not the key existed. */
export async function deleteObject(store: S3Store, path: string): Promise<void> {
  await store.call('delete', path, () =>
    store.client.send(new DeleteObjectCommand({ Bucket: store.bucket, Key: store.key(path) })),
  );
}

/** Largest batch DeleteObjects takes. */
const DELETE_BATCH = 1000;

/** Deletes keys (not paths) in batches of 1000; `path` names the operation in errors. */
export async function deleteKeys(store: S3Store, keys: string[], path: string): Promise<void> {
  for (let start = 0; start < keys.length; start += DELETE_BATCH) {
    const batch = keys.slice(start, start + DELETE_BATCH);
    const out = await store.call('delete', path, () =>
      store.client.send(
        new DeleteObjectsCommand({
          Bucket: store.bucket,
          Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
        }),
      ),
    );
    const failed = (out.Errors ?? []).filter((error) => error.Code !== 'NoSuchKey');
    if (failed.length > 0) {
      const first = failed[0];
      throw new StorageUnavailableError(
        `S3 delete of ${failed.length} objects below ${path} failed: ${first?.Key}: ${first?.Code} ${first?.Message ?? ''}`,
      );
    }
  }
}

/** Every page of a ListObjectsV2, following continuation tokens. */
export async function* listPages(
  store: S3Store,
  path: string,
  input: Omit<ListObjectsV2CommandInput, 'Bucket' | 'ContinuationToken'>,
): AsyncGenerator<ListObjectsV2CommandOutput> {
  let token: string | undefined;
  do {
    const out: ListObjectsV2CommandOutput = await store.call('list', path, () =>
      store.client.send(
        new ListObjectsV2Command({
          ...input,
          Bucket: store.bucket,
          ...(token ? { ContinuationToken: token } : {}),
        }),
      ),
    );
    yield out;
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
}

/** True when at least one key starts with `prefix`. */
export async function hasKeysBelow(store: S3Store, path: string, prefix: string): Promise<boolean> {
  for await (const page of listPages(store, path, { Prefix: prefix, MaxKeys: 1 })) {
    return (page.KeyCount ?? page.Contents?.length ?? 0) > 0;
  }
  return false;
}
