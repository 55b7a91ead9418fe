/**
 * Staged writes on S3: an upload's bytes go into a multipart upload at the staged path, cut
 * into parts of `storage.s3.chunksize`; what is left after the last full part goes into a new
 * tail object (and into the upload as a provisional last part), so that any replica can take
 * the next chunk and commit needs neither a copy nor a byte through Berth. The record and the
 * head object are described in s3-staged-record.ts.
 *
 * Nothing a write does can damage what an earlier record names: tails are new objects, and new
 * parts take part numbers after every number the record uses (S3 completes an upload from the
 * listed parts only). So a failed or lost write costs part numbers, never data: an upload has
 * 10,000 of them, one per full part plus one per write that ends between parts.
 */
import type { Readable } from 'node:stream';
import type { StagedObject, StagedWrites } from './driver.js';
import { abortUpload, completeUpload, createUpload, type UploadedPart, uploadPart } from './s3-multipart.js';
import {
  bodyBytes,
  deleteKeys,
  deleteObject,
  getObject,
  headObject,
  listPages,
  putObject,
} from './s3-objects.js';
import { cutParts } from './s3-parts.js';
import { type PointerCache, pointerOf, writePointer } from './s3-pointers.js';
import {
  type HeadState,
  headPath,
  nextPartNumber,
  randomId,
  readHead,
  recordOf,
  type StagedRecord,
  writeHead,
} from './s3-staged-record.js';
import type { S3Store } from './s3-store.js';

/** What staged writes need besides the store. */
export interface StagedSettings {
  chunkSize: number;
  multipartConcurrency: number;
  /** The driver's pointer cache: a commit writes a pointer. */
  pointers: PointerCache;
}

/** Staged writes over `store`. */
export function createStagedWrites(store: S3Store, settings: StagedSettings): StagedWrites {
  return {
    start: async (path) => ({ size: 0, path, parts: [] }) satisfies StagedRecord,
    write: (staged, source) => write(store, settings, recordOf(staged), source),
    commit: (staged, path) => commit(store, settings.pointers, recordOf(staged), path),
    discard: (staged) => discard(store, recordOf(staged)),
  };
}

async function write(
  store: S3Store,
  settings: StagedSettings,
  record: StagedRecord,
  source: Readable,
): Promise<StagedObject> {
  const first = record.tail ? await readTail(store, record) : Buffer.alloc(0);
  const base = nextPartNumber(record);
  const created: { uploadId?: string; tail?: string } = {};
  let starting: Promise<string> | undefined;
  const upload = (): Promise<string> => {
    if (record.uploadId) return Promise.resolve(record.uploadId);
    starting ??= createUpload(store, record.path).then((id) => (created.uploadId = id));
    return starting;
  };
  const full: UploadedPart[] = [];
  try {
    const cut = await cutParts(source, {
      partSize: settings.chunkSize,
      concurrency: settings.multipartConcurrency,
      first,
      upload: async (part, index) => {
        full[index] = await uploadPart(store, record.path, await upload(), base + index, part);
      },
    });
    const next: StagedRecord = {
      size: record.size + cut.received,
      path: record.path,
      write: randomId(),
      parts: [...record.parts, ...full],
    };
    const uploadId = record.uploadId ?? created.uploadId;
    if (uploadId) next.uploadId = uploadId;
    if (cut.rest.length > 0) {
      created.tail = `${record.path}.t-${randomId()}`;
      const [, tailPart] = await Promise.all([
        putObject(store, created.tail, cut.rest),
        uploadId ? uploadPart(store, record.path, uploadId, base + cut.parts, cut.rest) : undefined,
      ]);
      next.tail = { path: created.tail, size: cut.rest.length };
      if (tailPart) next.tailPart = tailPart;
    }
    await writeHead(store, next, { write: next.write as string, ...(uploadId ? { uploadId } : {}) });
    return next;
  } catch (err) {
    await forgetWrite(store, record, created);
    throw err;
  }
}

/** Best effort: drops what a failed write created; the failure itself is what the caller hears. */
async function forgetWrite(
  store: S3Store,
  record: StagedRecord,
  created: { uploadId?: string; tail?: string },
): Promise<void> {
  const tail = created.tail;
  const uploadId = created.uploadId;
  await Promise.allSettled([
    tail ? deleteObject(store, tail) : undefined,
    uploadId ? abortUpload(store, record.path, uploadId) : undefined,
  ]);
}

async function readTail(store: S3Store, record: StagedRecord): Promise<Buffer> {
  const tail = record.tail as { path: string; size: number };
  const bytes = await bodyBytes(store, tail.path, await getObject(store, tail.path));
  if (bytes.length !== tail.size)
    throw new Error(`staged tail ${tail.path} holds ${bytes.length} bytes, the record says ${tail.size}`);
  return bytes;
}

async function commit(
  store: S3Store,
  pointers: PointerCache,
  record: StagedRecord,
  to: string,
): Promise<void> {
  const head = await readHead(store, record);
  checkLive(record, head);
  if (record.size === 0) {
    await putObject(store, to, new Uint8Array(0));
    pointers.forget(to);
    await dropLeftovers(store, record, undefined);
    return;
  }
  const data = record.uploadId ? await completeData(store, record) : await tailData(store, record);
  const replaced = pointerOf((await headObject(store, to))?.metadata);
  await writeHead(store, record, { ...(head as HeadState), committed: true });
  const pointer = { data, size: record.size };
  await writePointer(store, to, pointer);
  pointers.set(to, pointer);
  if (replaced && replaced.data !== data) await deleteObject(store, replaced.data);
  await dropLeftovers(store, record, data);
}

/** Throws unless `record` is the one the head object names (or, never written, there is none). */
function checkLive(record: StagedRecord, head: HeadState | undefined): void {
  if (record.write === undefined ? head === undefined : head?.write === record.write) return;
  throw new Error(
    `staged object ${record.path} was written again or discarded after this record: it cannot be committed`,
  );
}

/** Completes the upload and checks the object's size; resolves with its path. */
async function completeData(store: S3Store, record: StagedRecord): Promise<string> {
  const parts = record.tailPart ? [...record.parts, record.tailPart] : record.parts;
  const completed = await completeUpload(store, record.path, record.uploadId as string, parts);
  const size = (await headObject(store, record.path))?.size;
  // An upload that is gone was completed when its object is there: by a commit of this record
  // that stopped after completing and is re-run, or by an attempt whose answer was lost and
  // that the SDK retried. Only completing makes that object; aborting the upload does not.
  if (!completed && size === undefined)
    throw new Error(`the multipart upload of ${record.path} is gone: it was discarded`);
  if (size !== record.size) {
    await deleteObject(store, record.path);
    throw new Error(`committing ${record.path} gave ${size} bytes where the record has ${record.size}`);
  }
  return record.path;
}

/** The tail object, which is all the data when there is no upload; resolves with its path. */
async function tailData(store: S3Store, record: StagedRecord): Promise<string> {
  const tail = record.tail as { path: string; size: number };
  const size = (await headObject(store, tail.path))?.size;
  if (size !== record.size)
    throw new Error(`staged tail ${tail.path} holds ${size} bytes where the record has ${record.size}`);
  return tail.path;
}

async function discard(store: S3Store, record: StagedRecord): Promise<void> {
  const head = await readHead(store, record);
  // Being committed or committed (head gone): the data belongs to a blob now.
  if (head?.committed) return;
  if (record.uploadId) await abortUpload(store, record.path, record.uploadId);
  if (!head) return;
  if (head.uploadId && head.uploadId !== record.uploadId)
    await abortUpload(store, record.path, head.uploadId);
  await dropLeftovers(store, record, undefined);
}

/** Deletes the tails (but `keep`) and the head object of a staged object. */
async function dropLeftovers(store: S3Store, record: StagedRecord, keep: string | undefined): Promise<void> {
  const prefix = `${store.key(record.path)}.t-`;
  const kept = keep === undefined ? undefined : store.key(keep);
  for await (const page of listPages(store, record.path, { Prefix: prefix })) {
    const keys = (page.Contents ?? []).flatMap((entry) =>
      entry.Key && entry.Key !== kept ? [entry.Key] : [],
    );
    await deleteKeys(store, keys, record.path);
  }
  await deleteObject(store, headPath(record));
}
