/**
 * A pull-only client for the OCI distribution API: manifests (read whole, they are small) and
 * blobs (handed back as streams, never held in memory). A 401 is answered once through the
 * authenticator and the request retried; failures become errors that name the repository or
 * host, in the registry's own words where it gave some.
 */
import { createHash } from 'node:crypto';
import { berthVersion } from '../cli/version.js';
import {
  type Authenticator,
  boundedText,
  type Credentials,
  createAuthenticator,
  errorMessage,
  type Fetch,
  networkError,
  readBounded,
  where,
} from './auth-client.js';
import type { LayerDescriptor } from './image.js';
import type { IndexEntry } from './platform.js';
import { registryBaseUrl } from './reference.js';

/** Manifest media types a pull accepts, most preferred first. */
export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];

/** Layer media types the unpacker understands; others are refused at pull time. */
export const LAYER_TYPES: ReadonlySet<string> = new Set([
  'application/vnd.oci.image.layer.v1.tar',
  'application/vnd.oci.image.layer.v1.tar+gzip',
  'application/vnd.oci.image.layer.v1.tar+zstd',
  'application/vnd.docker.image.rootfs.diff.tar.gzip',
]);
const CONFIG_TYPES = new Set([
  'application/vnd.oci.image.config.v1+json',
  'application/vnd.docker.container.image.v1+json',
]);
const INDEX_TYPES = new Set([MANIFEST_ACCEPT[0], MANIFEST_ACCEPT[2]]);
const SHA256 = /^sha256:[0-9a-f]{64}$/;

// containerd's limit: a manifest larger than this is not a manifest anyone should run.
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MAX_ERROR_BYTES = 64 * 1024;

/** Settings of a registry client. */
export interface RegistryClientOptions {
  /** `host[:port]` as in a reference. */
  registry: string;
  plainHttp?: boolean;
  credentials?: Credentials | undefined;
  fetch?: Fetch;
}

/** A manifest as fetched: its exact bytes, the media type, and the sha256 of the bytes. */
export interface FetchedManifest {
  body: Buffer;
  mediaType: string | undefined;
  digest: string;
  /** `Docker-Content-Digest` as the registry sent it, if it did. */
  headerDigest: string | undefined;
}

/** A blob download: the body as chunks as they arrive, and the length the registry announced. */
export interface BlobDownload {
  body: AsyncIterable<Uint8Array>;
  length: number | undefined;
  /** Drops the connection when the body will not be read (after reading, a no-op). */
  cancel(): Promise<void>;
}

/** The operations a pull needs. */
export interface RegistryClient {
  readonly registry: string;
  /** GET a manifest by tag or digest; throws "REF not found" on 404. */
  getManifest(repository: string, reference: string, signal?: AbortSignal): Promise<FetchedManifest>;
  /** GET a blob; the caller must read the body or cancel the download. */
  getBlob(repository: string, digest: string, signal?: AbortSignal): Promise<BlobDownload>;
  /** GET /v2/, answering a challenge if there is one; throws when access is refused. */
  ping(signal?: AbortSignal): Promise<void>;
}

/** Creates a client for one registry; tokens it fetches are kept for its lifetime. */
export function createRegistryClient(options: RegistryClientOptions): RegistryClient {
  const { registry } = options;
  const doFetch = options.fetch ?? fetch;
  const base = registryBaseUrl(registry, options.plainHttp ?? false);
  const auth: Authenticator = createAuthenticator({
    registry,
    credentials: options.credentials,
    fetch: doFetch,
  });
  const userAgent = `berth-agent/${berthVersion()}`;

  const send = async (
    path: string,
    headers: Record<string, string>,
    authorization: string | undefined,
    signal: AbortSignal | undefined,
  ) => {
    const all: Record<string, string> = { 'User-Agent': userAgent, ...headers };
    if (authorization) all.Authorization = authorization;
    try {
      return await doFetch(`${base}${path}`, { headers: all, signal: signal ?? null });
    } catch (error) {
      throw networkError(registry, error);
    }
  };

  /** A GET that answers one challenge; a refusal after that is "access denied". */
  const get = async (
    path: string,
    repository: string | undefined,
    headers: Record<string, string>,
    signal: AbortSignal | undefined,
  ): Promise<Response> => {
    let response = await send(path, headers, auth.known(repository), signal);
    const challenge = response.headers.get('www-authenticate');
    if (response.status === 401 && challenge) {
      await response.body?.cancel();
      const authorization = await auth.answer(challenge, repository, signal);
      if (authorization) response = await send(path, headers, authorization, signal);
    }
    if (response.status === 401 || response.status === 403) {
      const message = errorMessage(await boundedText(response, MAX_ERROR_BYTES), response.status);
      const hint = auth.hasCredentials
        ? ''
        : ` (log in with \`berth agent login ${registry}\` or pass --username)`;
      throw new Error(`access denied to ${where(registry, repository)}: ${message}${hint}`);
    }
    return response;
  };

  const failure = async (response: Response, what: string): Promise<Error> => {
    const message = errorMessage(await boundedText(response, MAX_ERROR_BYTES), response.status);
    return new Error(`${registry} answered ${response.status} for ${what}: ${message}`);
  };

  return {
    registry,

    async getManifest(repository, reference, signal) {
      const response = await get(
        `/v2/${repository}/manifests/${reference}`,
        repository,
        { Accept: MANIFEST_ACCEPT.join(', ') },
        signal,
      );
      const separator = reference.includes(':') ? '@' : ':';
      if (response.status === 404) {
        await response.body?.cancel();
        throw new Error(`${registry}/${repository}${separator}${reference} not found`);
      }
      if (!response.ok) throw await failure(response, `manifest ${repository}${separator}${reference}`);
      const declared = Number(response.headers.get('content-length') ?? 0);
      if (declared > MAX_MANIFEST_BYTES) {
        await response.body?.cancel();
        throw new Error(
          `manifest ${repository}${separator}${reference} is larger than ${MAX_MANIFEST_BYTES} bytes`,
        );
      }
      const body = await readBounded(response, MAX_MANIFEST_BYTES);
      return {
        body,
        mediaType: response.headers.get('content-type')?.split(';', 1)[0]?.trim() || undefined,
        digest: `sha256:${createHash('sha256').update(body).digest('hex')}`,
        headerDigest: response.headers.get('docker-content-digest') ?? undefined,
      };
    },

    async getBlob(repository, digest, signal) {
      // Identity: fetch would otherwise gunzip a body served with Content-Encoding, and the
      // digest is of the bytes as stored.
      const response = await get(
        `/v2/${repository}/blobs/${digest}`,
        repository,
        { 'Accept-Encoding': 'identity' },
        signal,
      );
      if (response.status === 404) {
        await response.body?.cancel();
        throw new Error(`blob ${digest} not found in ${registry}/${repository}`);
      }
      const body = response.body;
      if (!response.ok || !body) throw await failure(response, `blob ${digest}`);
      const length = response.headers.get('content-length');
      return {
        // Web streams iterate without a conversion to node streams, which would cost a copy.
        body: response.body as unknown as AsyncIterable<Uint8Array>,
        length: length === null ? undefined : Number(length),
        cancel: () => body.cancel().catch(() => {}),
      };
    },

    async ping(signal) {
      const response = await get('/v2/', undefined, {}, signal);
      if (!response.ok) throw await failure(response, '/v2/');
      await response.body?.cancel();
    },
  };
}

/** An image manifest reduced to what a pull uses. */
export interface ImageManifest {
  kind: 'image';
  config: LayerDescriptor;
  layers: LayerDescriptor[];
}

/** An index reduced to its entries (each with a checked sha256 digest and size). */
export interface IndexManifest {
  kind: 'index';
  entries: IndexEntry[];
}

/**
 * Reads fetched manifest bytes as an index or an image manifest, checking what this agent
 * depends on: sha256 digests, sizes, a container image config, layer types it can unpack.
 * Throws saying what is wrong or unsupported; `name` is the reference, for the message.
 */
export function parseManifest(manifest: FetchedManifest, name: string): ImageManifest | IndexManifest {
  // A registry that names another digest than the bytes hash to sent something corrupted.
  const { headerDigest } = manifest;
  if (headerDigest && SHA256.test(headerDigest) && headerDigest !== manifest.digest) {
    throw new Error(`manifest of ${name} hashes to ${manifest.digest} but the registry says ${headerDigest}`);
  }
  const document = parseObject(manifest.body, name);
  if (document.schemaVersion === 1)
    throw new Error(`${name} is a Docker schema 1 image, which is not supported`);
  const mediaType = typeof document.mediaType === 'string' ? document.mediaType : manifest.mediaType;
  if (INDEX_TYPES.has(mediaType ?? '') || (!document.config && Array.isArray(document.manifests))) {
    if (!Array.isArray(document.manifests)) throw new Error(`index of ${name} has no manifests list`);
    for (const entry of document.manifests) checkDescriptor(entry, name);
    return { kind: 'index', entries: document.manifests as IndexEntry[] };
  }
  const { config, layers } = document as { config?: LayerDescriptor; layers?: unknown };
  if (!config || !Array.isArray(layers)) throw new Error(`manifest of ${name} is not an image manifest`);
  checkDescriptor(config, name);
  if (!CONFIG_TYPES.has(config.mediaType)) {
    throw new Error(`${name} is not a container image (its config is ${config.mediaType})`);
  }
  for (const layer of layers as Array<LayerDescriptor & { urls?: unknown }>) {
    checkDescriptor(layer, name);
    if (layer.urls !== undefined || /nondistributable|foreign/.test(layer.mediaType)) {
      throw new Error(
        `${name}: layer ${layer.digest} is a foreign (non-distributable) layer (${layer.mediaType}); those are not supported`,
      );
    }
    if (!LAYER_TYPES.has(layer.mediaType)) {
      throw new Error(`${name}: layer ${layer.digest} has unsupported media type ${layer.mediaType}`);
    }
  }
  return { kind: 'image', config, layers };
}

function checkDescriptor(descriptor: unknown, name: string): asserts descriptor is LayerDescriptor {
  const { digest, size, mediaType } = (descriptor ?? {}) as Partial<LayerDescriptor>;
  if (typeof digest !== 'string' || !SHA256.test(digest)) {
    throw new Error(
      `manifest of ${name} names an unsupported digest ${String(digest)} (only sha256 is supported)`,
    );
  }
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw new Error(`manifest of ${name} gives ${digest} an invalid size`);
  }
  if (typeof mediaType !== 'string') throw new Error(`manifest of ${name} gives ${digest} no media type`);
}

function parseObject(body: Buffer, name: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw new Error(`manifest of ${name} is not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new Error(`manifest of ${name} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}
