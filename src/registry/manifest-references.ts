/**
 * The check every manifest push makes: everything it references is in the repository, with
 * the size its descriptor says. Lookups run a few at a time and the check stops at the first
 * few problems, so a manifest naming thousands of absent layers costs little, answers a short
 * error and leaves storage free for everyone else meanwhile.
 */
import type { Digest } from './digest.js';
import { RegistryError } from './errors.js';
import { forEachLimited, LOOKUPS_IN_FLIGHT } from './limited.js';
import type { Descriptor, ParsedManifest } from './manifest-parse.js';

/** Sizes of what a manifest may reference; undefined when it is not in the repository. */
export interface ReferenceLookups {
  blobSize(digest: Digest): Promise<number | undefined>;
  manifestSize(digest: Digest): Promise<number | undefined>;
}

/** Problems an error names at most; the check stops once it has found this many. */
export const MAX_REPORTED = 10;

/**
 * Resolves when every reference is present with the right size; otherwise throws
 * MANIFEST_BLOB_UNKNOWN (something is missing) or MANIFEST_INVALID (a size differs), naming
 * at most MAX_REPORTED digests in manifest order and how many references went unchecked.
 */
export async function checkReferences(manifest: ParsedManifest, lookups: ReferenceLookups): Promise<void> {
  const references = [
    ...manifest.blobs.map((descriptor) => ({ descriptor, lookup: lookups.blobSize })),
    ...manifest.manifests.map((descriptor) => ({ descriptor, lookup: lookups.manifestSize })),
  ];
  const missing: Found[] = [];
  const wrongSize: Found[] = [];
  let checked = 0;
  await forEachLimited(
    references,
    LOOKUPS_IN_FLIGHT,
    async ({ descriptor, lookup }, index) => {
      const size = await lookup(descriptor.digest);
      checked++;
      if (size === undefined) missing.push({ index, descriptor });
      else if (size !== descriptor.size) wrongSize.push({ index, descriptor });
    },
    () => missing.length + wrongSize.length >= MAX_REPORTED,
  );
  const unchecked = references.length - checked;
  if (missing.length > 0) {
    throw new RegistryError(
      'MANIFEST_BLOB_UNKNOWN',
      'manifest references a manifest or blob unknown to the repository',
      { detail: { missing: digestsOf(missing), ...(unchecked > 0 ? { unchecked } : {}) } },
    );
  }
  if (wrongSize.length > 0) {
    throw new RegistryError('MANIFEST_INVALID', 'a descriptor size does not match the stored content', {
      detail: { digests: digestsOf(wrongSize), ...(unchecked > 0 ? { unchecked } : {}) },
    });
  }
}

interface Found {
  index: number;
  descriptor: Descriptor;
}

function digestsOf(found: Found[]): Digest[] {
  return found
    .sort((a, b) => a.index - b.index)
    .slice(0, MAX_REPORTED)
    .map((entry) => entry.descriptor.digest);
}
