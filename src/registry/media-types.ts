/** Media types of the manifests Berth accepts and of the content they reference. */

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json';
export const DOCKER_MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

/** Manifest media types that describe one image or artifact (config + layers). */
export const IMAGE_MANIFEST_TYPES: ReadonlySet<string> = new Set([OCI_MANIFEST, DOCKER_MANIFEST]);

/** Manifest media types that list other manifests. */
export const INDEX_TYPES: ReadonlySet<string> = new Set([OCI_INDEX, DOCKER_MANIFEST_LIST]);

/** Every manifest media type Berth stores. */
export const MANIFEST_TYPES: ReadonlySet<string> = new Set([...IMAGE_MANIFEST_TYPES, ...INDEX_TYPES]);

/**
 * Layer media types whose content may live outside the registry, at the descriptor's `urls`:
 * the OCI non-distributable layers (deprecated since image-spec 1.1 but still valid) and
 * Docker's foreign layers. Any other layer must be in the repository, `urls` or not.
 */
export const NON_DISTRIBUTABLE_LAYER_TYPES: ReadonlySet<string> = new Set([
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  'application/vnd.docker.image.rootfs.foreign.diff.tar',
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
]);

/** The media type without parameters, lower-cased (`application/json; charset=utf-8` -> `application/json`). */
export function baseMediaType(contentType: string | undefined): string | undefined {
  if (!contentType) return undefined;
  const base = contentType.split(';', 1)[0]?.trim().toLowerCase();
  return base ? base : undefined;
}
