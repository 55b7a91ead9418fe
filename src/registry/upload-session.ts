/**
 * An upload session's state object (`_uploads/<id>`) and the claim that lets one request at a
 * time write to it, whichever replica it reaches. A request claims the session with a
 * conditional write of the state it read, renews the claim while its body streams, and ends
 * it by writing the new state conditionally on its own last write: so of two requests
 * carrying the same range, exactly one is acknowledged. A claim whose holder died runs out
 * after CLAIM_TTL_MS and the next request takes the session over. A claim names the process
 * that made it: that process takes its own leftover claim over at once (see claimSession).
 *
 * On a store that ignores conditional writes the claim is advisory: two requests racing on
 * one session may both be acknowledged, and the last state written wins. No blob can be
 * corrupted that way (a committed object's size is checked, its digest always verified), but
 * the loser's client learns of the race only when it completes.
 */
import { randomBytes } from 'node:crypto';
import {
  isNotFound,
  isPreconditionFailed,
  type StagedObject,
  type StorageDriver,
} from '../blobstore/driver.js';
import { uploadPath } from '../blobstore/layout.js';
import { RegistryError } from './errors.js';
import type { RepositoryName } from './names.js';

/** What a session's state object records. */
export interface SessionState {
  /** Bytes acknowledged to the client. */
  size: number;
  /** The sha256 midstate at `size`; absent when unknown (completion then reads the bytes back). */
  hash?: string;
  /** The driver's record of the staged bytes. */
  staged: StagedObject;
  /** The request writing to the session now, if any, and the process (`owner`) it reached. */
  claim?: { token: string; owner?: string; until: number };
}

/** A session as read: its state and the version of the state object. */
export interface Session {
  name: RepositoryName;
  id: string;
  state: SessionState;
  version: string;
}

/** A claimed session: its state as claimed, and how to end the claim. */
export interface ClaimedSession {
  state: SessionState;
  /** Aborted when the claim was lost (taken over, or the session was cancelled). */
  lost: AbortSignal;
  /** Ends the claim by writing `state` (the session's new state). Throws when it was lost. */
  finish(state: SessionState): Promise<void>;
  /** Ends the claim leaving the state as it was (best effort: a failed request). */
  release(): Promise<void>;
  /** Ends the claim by deleting the session (it was completed). */
  remove(): Promise<void>;
}

/** How long a claim lasts without renewal: a crashed writer blocks its session this long at most. */
export const CLAIM_TTL_MS = 30_000;
const RENEW_EVERY_MS = CLAIM_TTL_MS / 3;

const UPLOAD_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Writes the state of a new session; the id is fresh, so it never replaces one. */
export async function createSession(
  driver: StorageDriver,
  name: RepositoryName,
  id: string,
  state: SessionState,
): Promise<void> {
  await driver.putContent(uploadPath(name, id), encode(state), { ifNoneMatch: '*' });
}

/** Reads a session; BLOB_UPLOAD_UNKNOWN when there is none. */
export async function readSession(driver: StorageDriver, name: RepositoryName, id: string): Promise<Session> {
  if (!UPLOAD_ID.test(id)) throw uploadUnknown(id);
  try {
    const { content, version } = await driver.getVersioned(uploadPath(name, id));
    return { name, id, state: decode(content, id), version };
  } catch (err) {
    if (isNotFound(err)) throw uploadUnknown(id);
    throw err;
  }
}

/**
 * Claims a session for one request. With `start`, the request's bytes must begin where the
 * session ends. Answers 416 with the session's Range when they do not, or when another request
 * holds the session.
 *
 * `owner` names the calling process, which must hold its in-process lock of the session
 * (locks.ts): a live claim of the same owner is then one whose request has ended without
 * writing its release (the store failed mid-request), and waiting for it to run out would
 * only refuse the client's retry. It is taken over like an expired one.
 */
export async function claimSession(
  driver: StorageDriver,
  name: RepositoryName,
  id: string,
  start: number | undefined,
  owner: string,
): Promise<ClaimedSession> {
  const session = await readSession(driver, name, id);
  checkStart(session.state, start);
  if (heldByAnother(session.state, owner)) throw busy(session.state.size);
  const token = randomBytes(12).toString('base64url');
  const path = uploadPath(name, id);
  const claimedState = (): SessionState => ({
    ...session.state,
    claim: { token, owner, until: Date.now() + CLAIM_TTL_MS },
  });
  let version: string;
  try {
    version = await driver.putContent(path, encode(claimedState()), { ifMatch: session.version });
  } catch (err) {
    throw await lostRace(driver, name, id, err);
  }

  const controller = new AbortController();
  // Renewals and the final write go one after another, each conditional on the one before.
  let writes: Promise<void> = Promise.resolve();
  const write = (content: Buffer | undefined): Promise<void> => {
    writes = writes.then(async () => {
      if (controller.signal.aborted) throw claimLost(id);
      try {
        if (content === undefined) await driver.delete(path);
        else version = await driver.putContent(path, content, { ifMatch: version });
      } catch (err) {
        if (!isPreconditionFailed(err) && !isNotFound(err)) throw err;
        controller.abort(claimLost(id));
        throw claimLost(id);
      }
    });
    return writes;
  };
  const timer = setInterval(() => {
    write(encode(claimedState())).catch(() => {});
  }, RENEW_EVERY_MS);
  timer.unref();
  const end = (content: Buffer | undefined) => {
    clearInterval(timer);
    return write(content);
  };

  return {
    state: session.state,
    lost: controller.signal,
    finish: (state) => end(encode(withoutClaim(state))),
    release: () => end(encode(withoutClaim(session.state))).catch(() => {}),
    remove: () => end(undefined),
  };
}

function heldByAnother(state: SessionState, owner: string): boolean {
  const claim = state.claim;
  return claim !== undefined && claim.until > Date.now() && claim.owner !== owner;
}

function checkStart(state: SessionState, start: number | undefined): void {
  if (start === undefined || start === state.size) return;
  throw new RegistryError('BLOB_UPLOAD_INVALID', 'chunk does not start where the upload ends', {
    status: 416,
    headers: { Range: uploadRange(state.size) },
    detail: { expectedStart: state.size, receivedStart: start },
  });
}

/** The error for a claim refused because the state changed after it was read. */
async function lostRace(
  driver: StorageDriver,
  name: RepositoryName,
  id: string,
  err: unknown,
): Promise<unknown> {
  if (isNotFound(err)) return uploadUnknown(id);
  if (!isPreconditionFailed(err)) return err;
  const now = await readSession(driver, name, id);
  return busy(now.state.size);
}

function busy(size: number): RegistryError {
  return new RegistryError('BLOB_UPLOAD_INVALID', 'another request is writing to this upload', {
    status: 416,
    headers: { Range: uploadRange(size) },
    detail: { uploadSize: size },
  });
}

function claimLost(id: string): RegistryError {
  return new RegistryError(
    'BLOB_UPLOAD_INVALID',
    'the upload was taken over or cancelled while this request wrote to it',
    {
      status: 409,
      detail: { uuid: id },
    },
  );
}

function withoutClaim(state: SessionState): SessionState {
  const { claim: _claim, ...rest } = state;
  return rest;
}

function encode(state: SessionState): Buffer {
  return Buffer.from(JSON.stringify(state));
}

function decode(content: Buffer, id: string): SessionState {
  const state = JSON.parse(content.toString('utf8')) as SessionState;
  if (typeof state?.size !== 'number' || typeof state.staged?.size !== 'number') {
    throw new Error(`upload session ${id} has a damaged state object`);
  }
  return state;
}

/** The `Range` header value for a session holding `size` bytes (`0-0` when empty, as distribution does). */
export function uploadRange(size: number): string {
  return `0-${Math.max(size - 1, 0)}`;
}

/** BLOB_UPLOAD_UNKNOWN for a session id. */
export function uploadUnknown(id: string): RegistryError {
  return new RegistryError('BLOB_UPLOAD_UNKNOWN', 'blob upload unknown to registry', {
    detail: { uuid: id.slice(0, 100) },
  });
}
