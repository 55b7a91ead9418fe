/** OCI image content for the manifest scenarios: a config blob, a layer and manifests over them. */
import { randomBytes } from 'node:crypto';
import { sha256Digest } from './data.js';
import type { RawConnection } from './raw-http.js';
import { pushBlob, type RepoTarget } from './registry-client.js';

/** Media type of OCI image manifests. */
export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

/** Descriptor fields of a pushed blob. */
interface Pushed {
  digest: string;
  size: number;
}

/** The blobs an image manifest references, already pushed to one repository. */
export interface ImageBlobs {
  config: Pushed;
  layer: Pushed;
}

/** Pushes a small image config and a 4 KiB random layer to `repo`. */
export async function pushImageBlobs(conn: RawConnection, repo: RepoTarget): Promise<ImageBlobs> {
  const layer = randomBytes(4096);
  const layerDigest = sha256Digest(layer);
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: [layerDigest] },
      config: {},
    }),
  );
  const configDigest = sha256Digest(config);
  await pushBlob(conn, repo, config, configDigest);
  await pushBlob(conn, repo, layer, layerDigest);
  return {
    config: { digest: configDigest, size: config.length },
    layer: { digest: layerDigest, size: layer.length },
  };
}

/** An OCI image manifest over `blobs`, made unique by `annotations`. */
export function imageManifest(blobs: ImageBlobs, annotations: Record<string, string>): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...blobs.config },
      layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', ...blobs.layer }],
      annotations,
    }),
  );
}
