/**
 * The running hash of an upload. A session continued by another replica (or after a
 * restart) must not re-read what it already has, and S3 cannot even read an unfinished
 * multipart upload back; so between requests a session keeps its sha256 midstate (hash-wasm
 * can save and load one; node's crypto cannot). Node's crypto hashes about four times faster
 * (1668 against 370 MiB/s on one core here), so a request that starts and finishes a blob
 * on its own (a monolithic push) hashes with it instead, and saves nothing.
 */
import { createSHA256, type IHasher } from 'hash-wasm';
import { type Algorithm, type Digest, digestFromHash, newHash } from './digest.js';

/** A hash fed as bytes stream through. */
export interface RunningHash {
  readonly algorithm: Algorithm;
  update(chunk: Uint8Array): void;
  /** The midstate to continue from later, or undefined when this hash cannot save one. */
  save(): string | undefined;
  /** Finishes the hash (the object is spent afterwards). */
  digest(): Digest;
}

/** The algorithm whose midstate sessions keep. */
export const RESUMABLE_ALGORITHM: Algorithm = 'sha256';

/** A sha256 that continues from `saved` (a fresh one when undefined) and can save its state. */
export async function resumableHash(saved: string | undefined): Promise<RunningHash> {
  const hasher: IHasher = await createSHA256();
  hasher.init();
  if (saved !== undefined) hasher.load(Buffer.from(saved, 'base64'));
  return {
    algorithm: RESUMABLE_ALGORITHM,
    update: (chunk) => {
      hasher.update(chunk);
    },
    save: () => Buffer.from(hasher.save()).toString('base64'),
    digest: () => `sha256:${hasher.digest('hex')}` as Digest,
  };
}

/** Node's (faster) hash, for bytes hashed start to finish within one request. */
export function oneShotHash(algorithm: Algorithm): RunningHash {
  const hash = newHash(algorithm);
  return {
    algorithm,
    update: (chunk) => {
      hash.update(chunk);
    },
    save: () => undefined,
    digest: () => digestFromHash(algorithm, hash),
  };
}
