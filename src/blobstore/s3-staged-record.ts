/**
 * The S3 driver's staged-object record, and the head object that says which record is the
 * live one.
 *
 * The record (the caller keeps it as JSON) names everything a commit needs: the full parts
 * uploaded so far, and the bytes after the last full part as a tail object of their own plus,
 * once a multipart upload exists, as its provisional last part.
 *
 * The head object (`<path>.head`) names the last write that succeeded, and the upload it
 * created. A commit checks it, so that a record superseded by a later write (whose process
 * died before saving it) or one already discarded cannot be committed; a discard reads it to
 * find an upload that a lost write started. While a commit runs it says `committed`, and the
 * commit deletes it at its end: from the first moment on, a discard (a retried completion,
 * the purge job) leaves the data alone, since a blob now points at it.
 */
import { randomBytes } from 'node:crypto';
import type { StagedObject } from './driver.js';
import { isNotFound } from './driver.js';
import type { UploadedPart } from './s3-multipart.js';
import { bodyBytes, getObject, putObject } from './s3-objects.js';
import type { S3Store } from './s3-store.js';

/** The record of a staged object on S3. */
export interface StagedRecord extends StagedObject {
  size: number;
  /** Where the data is staged (the completed multipart upload's key). */
  path: string;
  /** The write that made this record; none before the first write. */
  write?: string;
  uploadId?: string;
  /** Full parts, in order. */
  parts: UploadedPart[];
  /** The bytes after the last full part, as an object of their own. */
  tail?: { path: string; size: number };
  /** The same bytes as the upload's provisional last part (when there is an upload). */
  tailPart?: UploadedPart;
}

/** What the head object says. */
export interface HeadState {
  write: string;
  uploadId?: string;
  committed?: boolean;
}

/** A fresh random id for a write or a tail object. */
export function randomId(): string {
  return randomBytes(8).toString('hex');
}

/** The record a caller handed back, checked: it went through JSON and a session's state. */
export function recordOf(staged: StagedObject): StagedRecord {
  const record = staged as Partial<StagedRecord>;
  const valid =
    typeof record.path === 'string' &&
    Number.isSafeInteger(record.size) &&
    Array.isArray(record.parts) &&
    (record.tail === undefined || typeof record.tail.path === 'string');
  if (!valid) throw new Error(`not a staged object record of the S3 driver: ${JSON.stringify(staged)}`);
  return record as StagedRecord;
}

/** The path of the head object of a staged object. */
export function headPath(record: StagedRecord): string {
  return `${record.path}.head`;
}

/** The head object's state, or undefined when there is none. */
export async function readHead(store: S3Store, record: StagedRecord): Promise<HeadState | undefined> {
  try {
    const path = headPath(record);
    const content = await bodyBytes(store, path, await getObject(store, path));
    return JSON.parse(content.toString()) as HeadState;
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

/** Replaces the head object's state. */
export async function writeHead(store: S3Store, record: StagedRecord, state: HeadState): Promise<void> {
  await putObject(store, headPath(record), Buffer.from(JSON.stringify(state)));
}

/** The part number after every part a record names. */
export function nextPartNumber(record: StagedRecord): number {
  const numbers = record.parts.map((part) => part.n);
  if (record.tailPart) numbers.push(record.tailPart.n);
  return Math.max(0, ...numbers) + 1;
}
