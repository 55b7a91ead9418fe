/**
 * Compact keys and honest weights for the metadata cache (`cache.ts`). With a few hundred
 * thousand entries the per-entry overhead is most of the memory, so keys hold the digest as
 * raw bytes (32 for sha256) rather than 71 characters of text, and are built in one buffer so
 * V8 stores one flat string per key instead of a chain of concatenations (measured: 48 bytes
 * less per entry). Weights estimate what an entry costs on the V8 heap, in bytes; the figures
 * were measured on Node 20 (x64) by filling a cache with 100,000 entries of each kind and
 * comparing heapUsed (docs/caches.md).
 */
import { algorithmOf, type Digest, hexOf } from './digest.js';
import { MANIFEST_TYPES } from './media-types.js';

/** The kinds of entries, each the first byte of its keys. */
export const KIND = {
  blobSize: 0x73,
  linked: 0x6c,
  revision: 0x72,
  body: 0x62,
  tag: 0x74,
} as const;

/** Longest key: a kind byte, an algorithm byte, 64 digest bytes, a 255-character name. */
const MAX_KEY_BYTES = 1 + 1 + 64 + 255 + 1 + 128;

/** Builds keys into one reused buffer: one per cache, never shared between caches. */
export function createKeyBuilder() {
  const scratch = Buffer.allocUnsafeSlow(MAX_KEY_BYTES);

  function digestBytes(at: number, digest: Digest): number {
    scratch[at] = algorithmOf(digest) === 'sha256' ? 0x32 : 0x35;
    return at + 1 + scratch.write(hexOf(digest), at + 1, 'hex');
  }

  return {
    /** The key of a fact about a digest alone (a blob's size, a manifest body). */
    ofDigest(kind: number, digest: Digest): string {
      scratch[0] = kind;
      return scratch.toString('latin1', 0, digestBytes(1, digest));
    },
    /** The key of a fact about a digest in one repository. */
    inRepository(kind: number, name: string, digest: Digest): string {
      scratch[0] = kind;
      const end = digestBytes(1, digest);
      return scratch.toString('latin1', 0, end + scratch.write(name, end, 'latin1'));
    },
    /** The key of a tag of a repository (`:` never occurs in names or tags). */
    ofTag(name: string, tag: string): string {
      scratch[0] = KIND.tag;
      let end = 1 + scratch.write(name, 1, 'latin1');
      scratch[end++] = 0x3a;
      return scratch.toString('latin1', 0, end + scratch.write(tag, end, 'latin1'));
    },
  };
}

/**
 * What every entry costs besides its key and value: the Map's slot (with the spare capacity a
 * hash table keeps), the clock's entry record and the key string's header.
 */
export const ENTRY_BYTES = 176;

/**
 * A number's heap size: small integers live in the pointer itself; any other number (a
 * timestamp, a size past 1 GiB) is a boxed double.
 */
export function numberBytes(value: number): number {
  return Number.isInteger(value) && Math.abs(value) < 2 ** 30 ? 0 : 16;
}

/** A plain object's header and its hidden class share, before its fields. */
const OBJECT_BYTES = 24;

/** An object with `fields` fields. */
export function objectBytes(fields: number): number {
  return OBJECT_BYTES + 8 * fields;
}

/** Any character that V8 cannot keep in a one-byte string. */
const BEYOND_LATIN1 = /[\u0100-\uffff]/;

/**
 * A string's heap size: a header and its characters rounded up to 8 bytes; one byte each when
 * every character is Latin-1, else two (V8 stores such strings as UTF-16).
 */
export function stringBytes(text: string): number {
  const width = BEYOND_LATIN1.test(text) ? 2 : 1;
  return 16 + Math.ceil((text.length * width) / 8) * 8;
}

/**
 * A string as one flat copy of its characters. Strings made by concatenation or slicing are
 * chains of pieces or views into a larger parent; kept for minutes in a cache they would cost
 * more than their characters (or keep the parent alive). Only Latin-1 text is copied; other
 * strings (none of the cached ones in practice) are kept as they are.
 */
export function flatString(text: string): string {
  if (BEYOND_LATIN1.test(text)) return text;
  return Buffer.from(text, 'latin1').toString('latin1');
}

/** The shared constant for a known manifest media type (costing nothing per entry), else the text itself. */
export function internMediaType(mediaType: string): string {
  for (const known of MANIFEST_TYPES) if (known === mediaType) return known;
  return mediaType;
}

/** The heap bytes of a media type kept in an entry: nothing for a shared constant. */
export function mediaTypeBytes(mediaType: string): number {
  return MANIFEST_TYPES.has(mediaType) ? 0 : stringBytes(mediaType);
}
