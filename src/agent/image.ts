/** What the agent records about a pulled image, and the parts of an OCI image config it uses. */

/** A layer as the manifest names it. */
export interface LayerDescriptor {
  digest: string;
  mediaType: string;
  size: number;
}

/** One pulled image, stored as `images/<sha256(reference)>.json`. */
export interface ImageRecord {
  /** Normalised reference: `host[:port]/repository:tag` or `...@sha256:...`. */
  reference: string;
  registry: string;
  repository: string;
  tag: string | undefined;
  /** Digest of the image manifest (for an index: of the platform's manifest). */
  manifestDigest: string;
  /** Digest of the index the reference resolved to, when it was one. */
  indexDigest: string | undefined;
  configDigest: string;
  layers: LayerDescriptor[];
  platform: { os: string; architecture: string; variant?: string };
  /** Sum of the compressed layer sizes. */
  size: number;
  /** ISO 8601. */
  pulledAt: string;
}

/** The parts of an OCI image config (`application/vnd.oci.image.config.v1+json`) the agent uses. */
export interface ImageConfig {
  architecture: string;
  os: string;
  variant?: string;
  config?: {
    User?: string;
    Env?: string[];
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    WorkingDir?: string;
    ExposedPorts?: Record<string, object>;
    Labels?: Record<string, string>;
    StopSignal?: string;
    Volumes?: Record<string, object>;
  };
  rootfs: { type: string; diff_ids: string[] };
}
