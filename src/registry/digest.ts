/**
 * Content digests (`algorithm:hex`). Berth accepts the two algorithms the OCI image spec
 * registers, sha256 and sha512, in their canonical lowercase-hex form.
 */
import { createHash, type Hash } from 'node:crypto';
import { RegistryError } from './errors.js';

export type Algorithm = 'sha256' | 'sha512';

/** A validated digest string such as `sha256:<64 hex>`. */
export type Digest = string & { readonly __digest: unique symbol };

const HEX_LENGTH: Readonly<Record<Algorithm, number>> = { sha256: 64, sha512: 128 };
const DIGEST_GRAMMAR = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;

/** True when `value` looks like a digest at all (it has the `algorithm:encoded` shape). */
export function looksLikeDigest(value: string): boolean {
  return value.includes(':');
}

const CANONICAL_SHA256 = /^sha256:[0-9a-f]{64}$/;

/** Parses and validates a digest; throws DIGEST_INVALID naming what is wrong. */
export function parseDigest(value: string): Digest {
  // Nearly every digest on the hot path is a canonical sha256 one: one cheap test.
  if (CANONICAL_SHA256.test(value)) return value as Digest;
  if (!DIGEST_GRAMMAR.test(value)) {
    throw new RegistryError('DIGEST_INVALID', 'invalid digest format', { detail: { digest: value } });
  }
  const [algorithm, hex] = value.split(':') as [string, string];
  if (!isAlgorithm(algorithm)) {
    throw new RegistryError('DIGEST_INVALID', `unsupported digest algorithm "${algorithm}"`, {
      detail: { digest: value, supported: Object.keys(HEX_LENGTH) },
    });
  }
  if (hex.length !== HEX_LENGTH[algorithm] || !/^[0-9a-f]+$/.test(hex)) {
    throw new RegistryError(
      'DIGEST_INVALID',
      `invalid ${algorithm} digest: expected ${HEX_LENGTH[algorithm]} lowercase hex characters`,
      {
        detail: { digest: value },
      },
    );
  }
  return value as Digest;
}

function isAlgorithm(value: string): value is Algorithm {
  return value === 'sha256' || value === 'sha512';
}

/** The algorithm part of a validated digest. */
export function algorithmOf(digest: Digest): Algorithm {
  return digest.slice(0, digest.indexOf(':')) as Algorithm;
}

/** The hex part of a validated digest. */
export function hexOf(digest: Digest): string {
  return digest.slice(digest.indexOf(':') + 1);
}

/** A fresh hash for the algorithm. */
export function newHash(algorithm: Algorithm): Hash {
  return createHash(algorithm);
}

/** Finishes a hash into a digest. */
export function digestFromHash(algorithm: Algorithm, hash: Hash): Digest {
  return `${algorithm}:${hash.digest('hex')}` as Digest;
}

/** Digest of an in-memory byte string (manifests, small test content). */
export function digestOf(content: Uint8Array, algorithm: Algorithm = 'sha256'): Digest {
  return `${algorithm}:${createHash(algorithm).update(content).digest('hex')}` as Digest;
}
