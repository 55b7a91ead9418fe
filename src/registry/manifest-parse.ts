/**
 * Parsing and validation of pushed manifests: OCI image manifests and indexes, Docker v2
 * schema 2 manifests and manifest lists, including artifacts (`artifactType`) and the
 * `subject` of OCI 1.1. The bytes themselves are stored untouched; this module only reads
 * what the registry must check or index.
 */
import { type Digest, parseDigest } from './digest.js';
import { RegistryError } from './errors.js';
import {
  baseMediaType,
  INDEX_TYPES,
  MANIFEST_TYPES,
  NON_DISTRIBUTABLE_LAYER_TYPES,
  OCI_INDEX,
  OCI_MANIFEST,
} from './media-types.js';

/** A content descriptor as manifests carry them. */
export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** What the registry needs to know about a manifest. */
export interface ParsedManifest {
  /** The media type to store and serve it with. */
  mediaType: string;
  kind: 'image' | 'index';
  /** Config and layers that must be in the repository: all but non-distributable layers with `urls`. */
  blobs: Descriptor[];
  /** Child manifests of an index. */
  manifests: Descriptor[];
  subject?: Descriptor;
  /** The artifact type a referrers listing reports for this manifest. */
  artifactType?: string;
  annotations?: Record<string, string>;
}

/** Bounds a pushed manifest must keep. */
export interface ManifestLimits {
  /** Most descriptors (config and layers, or index entries) one manifest may list. */
  maxDescriptors: number;
}

type Json = Record<string, unknown>;

/** Parses a manifest body; throws MANIFEST_INVALID naming the first problem found. */
export function parseManifest(
  body: Buffer,
  contentType: string | undefined,
  limits: ManifestLimits,
): ParsedManifest {
  const json = parseJson(body);
  const mediaType = resolveMediaType(json, baseMediaType(contentType));
  if (json.schemaVersion !== 2) invalid('schemaVersion must be 2', 'schemaVersion');
  const annotations = optionalAnnotations(json.annotations, 'annotations');
  const subject = json.subject === undefined ? undefined : descriptor(json.subject, 'subject');
  const declaredArtifactType = optionalString(json.artifactType, 'artifactType');

  if (INDEX_TYPES.has(mediaType)) {
    if (!Array.isArray(json.manifests)) invalid('an index must have a "manifests" array', 'manifests');
    checkCount(json.manifests.length, limits);
    const manifests = (json.manifests as unknown[]).map((entry, i) => descriptor(entry, `manifests[${i}]`));
    return withOptional(
      { mediaType, kind: 'index', blobs: [], manifests },
      subject,
      declaredArtifactType,
      annotations,
    );
  }

  const config = descriptor(json.config, 'config');
  if (!Array.isArray(json.layers)) invalid('an image manifest must have a "layers" array', 'layers');
  checkCount(json.layers.length + 1, limits);
  const layers = (json.layers as unknown[]).map((entry, i) => descriptor(entry, `layers[${i}]`));
  const blobs = [config, ...layers.filter((layer) => !isExternal(layer))];
  return withOptional(
    { mediaType, kind: 'image', blobs, manifests: [] },
    subject,
    declaredArtifactType ?? config.mediaType,
    annotations,
  );
}

/** A layer the registry need not hold: a non-distributable one that says where it lives. */
function isExternal(layer: Descriptor): boolean {
  return NON_DISTRIBUTABLE_LAYER_TYPES.has(layer.mediaType) && (layer.urls?.length ?? 0) > 0;
}

/**
 * The digests a stored index lists. It passed validation when it was pushed, so this reads
 * leniently: a later, stricter rule must not make an old index unreadable.
 */
export function indexChildren(body: Buffer): Digest[] {
  const json: unknown = JSON.parse(body.toString('utf8'));
  const entries = isObject(json) && Array.isArray(json.manifests) ? (json.manifests as unknown[]) : [];
  return entries.flatMap((entry) =>
    isObject(entry) && typeof entry.digest === 'string' ? [entry.digest as Digest] : [],
  );
}

// Checked before any descriptor is read: a manifest of 26,000 layers is refused at once.
function checkCount(descriptors: number, { maxDescriptors }: ManifestLimits): void {
  if (descriptors <= maxDescriptors) return;
  throw new RegistryError(
    'MANIFEST_INVALID',
    `manifest lists ${descriptors} descriptors; this registry accepts at most ${maxDescriptors} (validation.manifests.maxdescriptors)`,
    { detail: { descriptors, limit: maxDescriptors } },
  );
}

function withOptional(
  manifest: ParsedManifest,
  subject: Descriptor | undefined,
  artifactType: string | undefined,
  annotations: Record<string, string> | undefined,
): ParsedManifest {
  if (subject) manifest.subject = subject;
  if (artifactType !== undefined) manifest.artifactType = artifactType;
  if (annotations) manifest.annotations = annotations;
  return manifest;
}

function parseJson(body: Buffer): Json {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (err) {
    invalid(`manifest is not valid JSON: ${(err as Error).message}`);
  }
  if (!isObject(value)) invalid('manifest must be a JSON object');
  return value;
}

function resolveMediaType(json: Json, header: string | undefined): string {
  const declared = optionalString(json.mediaType, 'mediaType');
  if (declared !== undefined && !MANIFEST_TYPES.has(declared)) unsupported(declared);
  const headerIsManifestType = header !== undefined && MANIFEST_TYPES.has(header);
  if (declared !== undefined && headerIsManifestType && declared !== header) {
    invalid(`Content-Type "${header}" does not match the manifest's mediaType "${declared}"`, 'mediaType');
  }
  if (declared !== undefined) return declared;
  if (headerIsManifestType) return header;
  if (json.schemaVersion === 1) unsupported('application/vnd.docker.distribution.manifest.v1+json');
  if (Array.isArray(json.manifests)) return OCI_INDEX;
  if (isObject(json.config)) return OCI_MANIFEST;
  return invalid('cannot tell the manifest type: no mediaType, no known Content-Type', 'mediaType');
}

function descriptor(value: unknown, path: string): Descriptor {
  if (!isObject(value)) invalid('descriptor must be an object', path);
  const mediaType = value.mediaType;
  if (typeof mediaType !== 'string' || mediaType === '')
    invalid('descriptor needs a mediaType', `${path}.mediaType`);
  if (typeof value.digest !== 'string') invalid('descriptor needs a digest', `${path}.digest`);
  let digest: Digest;
  try {
    digest = parseDigest(value.digest);
  } catch (err) {
    return invalid((err as Error).message, `${path}.digest`);
  }
  const size = value.size;
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    invalid('descriptor size must be a non-negative integer', `${path}.size`);
  }
  const result: Descriptor = { mediaType, digest, size };
  if (value.urls !== undefined) {
    if (!Array.isArray(value.urls) || !value.urls.every((url) => typeof url === 'string')) {
      invalid('urls must be an array of strings', `${path}.urls`);
    }
    result.urls = value.urls as string[];
  }
  const artifactType = optionalString(value.artifactType, `${path}.artifactType`);
  if (artifactType !== undefined) result.artifactType = artifactType;
  const annotations = optionalAnnotations(value.annotations, `${path}.annotations`);
  if (annotations) result.annotations = annotations;
  return result;
}

function optionalString(value: unknown, path: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') invalid('must be a string', path);
  return value;
}

function optionalAnnotations(value: unknown, path: string): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  if (!isObject(value) || !Object.values(value).every((entry) => typeof entry === 'string')) {
    invalid('annotations must map strings to strings', path);
  }
  return value as Record<string, string>;
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(message: string, field?: string): never {
  throw new RegistryError('MANIFEST_INVALID', message, { detail: field ? { field } : undefined });
}

function unsupported(mediaType: string): never {
  throw new RegistryError('MANIFEST_INVALID', `unsupported manifest media type "${mediaType}"`, {
    detail: { mediaType, supported: [...MANIFEST_TYPES] },
  });
}
