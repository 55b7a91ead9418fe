/**
 * The S3 driver (AWS S3 and S3-compatible stores): objects are keys under
 * `storage.s3.rootdirectory` in one bucket. Small objects are single PUTs, which S3 makes
 * visible atomically. Large objects are staged writes (s3-staged.ts) that become visible at
 * their final path through a pointer (s3-pointers.ts), so publishing copies nothing. Requests
 * that keep failing become StorageUnavailableError (s3-errors.ts).
 */
import { CopyObjectCommand, GetObjectCommand } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { forEachLimited } from '../registry/limited.js';
import {
  type FileInfo,
  isNotFound,
  PathNotFoundError,
  PreconditionFailedError,
  type StorageDriver,
  type WriteCondition,
} from './driver.js';
import { s3Leftovers } from './s3-leftovers.js';
import { deleteTree, HEADS_AT_ONCE, listNames, scanKeys, walkTree } from './s3-listing.js';
import { deleteKeys, deleteObject, headObject, type ObjectHead, putObject } from './s3-objects.js';
import { createPointerCache, type Pointer, pointerVersion, writePointer } from './s3-pointers.js';
import { checkBucket, probeConditionalWrites } from './s3-probe.js';
import { pointerReads } from './s3-reads.js';
import { createStagedWrites } from './s3-staged.js';
import { createS3Store, type S3Connection, type S3Store } from './s3-store.js';

/** Options of the S3 driver (the `storage.s3` config section). */
export interface S3DriverOptions extends S3Connection {
  /** Part size of staged writes, at least 5 MiB. */
  chunkSize: number;
  /** Parts one staged write uploads at once. */
  multipartConcurrency: number;
  /** Hand out presigned URLs for blob downloads. */
  redirect: boolean;
  /** How long a presigned URL is valid, in seconds. */
  redirectExpirySeconds: number;
}

/**
 * Creates the S3 driver once the bucket answers, having probed whether it enforces conditional
 * writes. Rejects with a message naming the bucket and endpoint when it cannot be used.
 */
export async function createS3Driver(options: S3DriverOptions): Promise<StorageDriver> {
  const store = createS3Store(options);
  const where = options.endpoint !== '' ? options.endpoint : `AWS region ${options.region}`;
  await checkBucket(store, where);
  const conditionalWrites = await probeConditionalWrites(store);
  return s3Driver(store, { ...options, conditionalWrites });
}

/** Settings of an S3 driver over an existing store. */
export interface S3DriverSettings
  extends Pick<S3DriverOptions, 'chunkSize' | 'multipartConcurrency' | 'redirect' | 'redirectExpirySeconds'> {
  conditionalWrites: boolean;
}

/** The driver over `store`, without start-up checks (tests build it directly). */
export function s3Driver(store: S3Store, settings: S3DriverSettings): StorageDriver {
  const pointers = createPointerCache();
  const reads = pointerReads(store, pointers);

  return {
    name: 's3',
    conditionalWrites: settings.conditionalWrites,

    getContent: async (path) => (await reads.whole(path)).content,
    getVersioned: (path) => reads.whole(path),

    async putContent(path, content, condition) {
      pointers.forget(path);
      const enforced = settings.conditionalWrites ? conditionHeaders(condition) : {};
      try {
        return await putObject(store, path, content, enforced);
      } catch (err) {
        // AWS answers If-Match on a missing object with 404: the object is not at that version.
        if (condition && settings.conditionalWrites && isNotFound(err))
          throw new PreconditionFailedError(path);
        throw err;
      }
    },

    reader: (path, offset = 0, length) => reads.stream(path, offset, length),

    async stat(path) {
      const found = path === '/' ? undefined : await reads.resolve(path);
      if (found) return objectInfo(path, found.head, found.pointer);
      throw new PathNotFoundError(path);
    },

    list: (path, page) => listNames(store, path, page),

    async move(from, to) {
      const source = await reads.resolve(from);
      if (!source) throw new PathNotFoundError(from);
      const replaced = await reads.resolve(to);
      if (source.pointer) await writePointer(store, to, source.pointer);
      else await copyObject(store, from, to);
      pointers.forget(to);
      await deleteObject(store, from);
      pointers.forget(from);
      if (replaced?.pointer && replaced.pointer.data !== source.pointer?.data)
        await deleteObject(store, replaced.pointer.data);
    },

    async delete(path) {
      const found = path === '/' ? undefined : await reads.resolve(path);
      if (found) {
        // The data first: a pointer left behind by a failed delete still names nothing lost.
        if (found.pointer) await deleteObject(store, found.pointer.data);
        await deleteObject(store, path);
        pointers.forget(path);
        return;
      }
      if (!(await deleteTree(store, path, pointers))) throw new PathNotFoundError(path);
    },

    async deleteMany(paths) {
      // A listing shows no metadata, so each pointer is asked what data it names (a HEAD unless
      // cached); the data goes first, as in `delete`.
      const found = new Array<Pointer | undefined>(paths.length);
      await forEachLimited(paths, HEADS_AT_ONCE, async (path, i) => {
        found[i] = pointers.get(path) ?? (await reads.resolve(path))?.pointer;
      });
      const data = found.flatMap((pointer) => (pointer ? [store.key(pointer.data)] : []));
      await deleteKeys(store, data, '/');
      await deleteKeys(
        store,
        paths.map((path) => store.key(path)),
        '/',
      );
      for (const path of paths) pointers.forget(path);
    },

    scan: (path) => scanKeys(store, path),

    walk: (path, visit) => walkTree(store, path, visit),

    async redirectURL(path) {
      if (!settings.redirect) return undefined;
      const pointer = pointers.get(path) ?? (await reads.resolve(path))?.pointer;
      if (!pointer && !(await headObject(store, path))) throw new PathNotFoundError(path);
      const key = store.key(pointer ? pointer.data : path);
      return getSignedUrl(store.client, new GetObjectCommand({ Bucket: store.bucket, Key: key }), {
        expiresIn: settings.redirectExpirySeconds,
      });
    },

    staged: createStagedWrites(store, { ...settings, pointers }),

    leftovers: s3Leftovers(store, pointers),
  };
}

function conditionHeaders(condition: WriteCondition | undefined): { ifMatch?: string; ifNoneMatch?: '*' } {
  if (!condition) return {};
  return 'ifMatch' in condition ? { ifMatch: condition.ifMatch } : { ifNoneMatch: '*' };
}

function objectInfo(path: string, head: ObjectHead, pointer: Pointer | undefined): FileInfo {
  return {
    path,
    size: pointer ? pointer.size : head.size,
    modTime: head.modTime,
    version: pointer ? pointerVersion(pointer) : head.etag,
    isDir: false,
  };
}

/** A server-side copy of a small object (never of staged data: those move as pointers). */
async function copyObject(store: S3Store, from: string, to: string): Promise<void> {
  const source = store.key(from).split('/').map(encodeURIComponent).join('/');
  await store.call('move', from, () =>
    store.client.send(
      new CopyObjectCommand({
        Bucket: store.bucket,
        Key: store.key(to),
        CopySource: `${store.bucket}/${source}`,
      }),
    ),
  );
}
