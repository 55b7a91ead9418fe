/**
 * The S3 driver's leftovers: multipart uploads nobody completed or aborted (a chunk cut off by
 * an outage, a process killed mid-write), and objects below the staging directory that no
 * pointer names (tails and heads of abandoned staged objects, the data of a commit that
 * stopped before its pointer was written, or of a replaced pointer whose delete failed).
 *
 * Which data a pointer names is only in the pointer's metadata, so the listing reads every
 * empty object in the store once (a HEAD each, 16 at a time): a cost for `berth fsck`, which
 * reads every blob anyway, and the reason this is not a server's periodic job. Candidates are
 * listed before pointers are: a pointer written after the scan passed it names the data of a
 * staged object that was still open when the listing began, which the caller keeps.
 */
import { ListMultipartUploadsCommand, type ListMultipartUploadsCommandOutput } from '@aws-sdk/client-s3';
import type { Leftover, LeftoverSweeping } from './driver.js';
import { describeAll } from './s3-listing.js';
import { abortUpload } from './s3-multipart.js';
import { deleteObject, listPages } from './s3-objects.js';
import type { PointerCache } from './s3-pointers.js';
import type { S3Store } from './s3-store.js';

/** Leftover sweeping over `store`; removals drop their paths from the driver's pointer cache. */
export function s3Leftovers(store: S3Store, pointers: PointerCache): LeftoverSweeping {
  return {
    async *list(stagingRoot, before) {
      yield* unfinishedUploads(store, before);
      yield* unusedStagedObjects(store, stagingRoot, before);
    },

    async remove(leftover) {
      if (leftover.kind === 'unfinished upload') {
        await abortUpload(store, leftover.path, leftover.handle ?? '');
        return;
      }
      await deleteObject(store, leftover.path);
      pointers.forget(leftover.path);
    },
  };
}

async function* unfinishedUploads(store: S3Store, before: Date): AsyncGenerator<Leftover> {
  for await (const page of uploadPages(store)) {
    for (const upload of page.Uploads ?? []) {
      const started = upload.Initiated ?? new Date(0);
      if (!upload.Key || !upload.UploadId || started >= before) continue;
      const path = store.pathOf(upload.Key);
      yield { path, kind: 'unfinished upload', size: 0, modTime: started, handle: upload.UploadId };
    }
  }
}

async function* uploadPages(store: S3Store): AsyncGenerator<ListMultipartUploadsCommandOutput> {
  let keyMarker: string | undefined;
  let uploadIdMarker: string | undefined;
  do {
    const out: ListMultipartUploadsCommandOutput = await store.call('list', '/', () =>
      store.client.send(
        new ListMultipartUploadsCommand({
          Bucket: store.bucket,
          Prefix: store.prefixOf('/'),
          ...(keyMarker ? { KeyMarker: keyMarker } : {}),
          ...(uploadIdMarker ? { UploadIdMarker: uploadIdMarker } : {}),
        }),
      ),
    );
    yield out;
    keyMarker = out.IsTruncated ? out.NextKeyMarker : undefined;
    uploadIdMarker = out.IsTruncated ? out.NextUploadIdMarker : undefined;
  } while (keyMarker);
}

async function* unusedStagedObjects(
  store: S3Store,
  stagingRoot: string,
  before: Date,
): AsyncGenerator<Leftover> {
  const candidates: Leftover[] = [];
  for await (const page of listPages(store, stagingRoot, { Prefix: store.prefixOf(stagingRoot) })) {
    for (const entry of page.Contents ?? []) {
      const modTime = entry.LastModified ?? new Date(0);
      if (!entry.Key || entry.Key.endsWith('/') || modTime >= before) continue;
      candidates.push({ path: store.pathOf(entry.Key), kind: 'staged data', size: entry.Size ?? 0, modTime });
    }
  }
  if (candidates.length === 0) return;
  const named = await pointedData(store);
  for (const candidate of candidates) if (!named.has(candidate.path)) yield candidate;
}

/** The driver paths every pointer in the store names. */
async function pointedData(store: S3Store): Promise<Set<string>> {
  const named = new Set<string>();
  for await (const page of listPages(store, '/', { Prefix: store.prefixOf('/') })) {
    for (const entry of await describeAll(store, page.Contents ?? [])) {
      if (entry.pointer) named.add(entry.pointer.data);
    }
  }
  return named;
}
