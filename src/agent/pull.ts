/**
 * `berth agent pull`: resolve a reference to one image manifest (through an index for the
 * wanted platform), download its config and layers into the content store, a few at a time,
 * verifying each while it streams, and record the image. Nothing is recorded unless every blob
 * arrived intact, and blobs already in the store are not fetched again. Progress is reported
 * through a callback; what to show is progress.ts's business.
 */
import { Readable } from 'node:stream';
import type { Credentials } from './auth-client.js';
import { credentialsFor } from './credentials.js';
import type { ImageConfig, ImageRecord } from './image.js';
import {
  formatPlatform,
  hostPlatform,
  type Platform,
  parsePlatform,
  platformMatches,
  selectManifest,
} from './platform.js';
import { holdPullLock } from './pull-lock.js';
import { formatReference, type ImageReference, isPlainHttpByDefault, parseReference } from './reference.js';
import {
  createRegistryClient,
  type FetchedManifest,
  type ImageManifest,
  parseManifest,
  type RegistryClient,
} from './registry-client.js';
import type { AgentStore } from './store.js';

/** Downloads at once unless told otherwise: enough to fill a link, few enough to be polite. */
export const DEFAULT_CONCURRENCY = 3;

/** One blob of the image being pulled. */
export interface PullBlob {
  digest: string;
  size: number;
  kind: 'config' | 'layer';
}

/** What a pull reports as it goes. */
export type PullEvent =
  | { type: 'resolved'; reference: string; manifestDigest: string; platform: Platform; blobs: PullBlob[] }
  | { type: 'blob-start'; blob: PullBlob }
  | { type: 'blob-progress'; blob: PullBlob; done: number }
  | { type: 'blob-done'; blob: PullBlob; skipped: boolean }
  | { type: 'warning'; message: string }
  | { type: 'done'; record: ImageRecord; downloadedBytes: number; durationMs: number };

/** How to pull. */
export interface PullOptions {
  /** Speak HTTP, not HTTPS; loopback registries do without being asked. */
  plainHttp?: boolean;
  /** `os/arch[/variant]` or a Platform; default the host's. */
  platform?: string | Platform;
  /** Default: the login saved for the registry in credentials.json, else anonymous. */
  credentials?: Credentials;
  onProgress?: (event: PullEvent) => void;
  signal?: AbortSignal;
  /** Blobs downloaded at once (default 3). */
  concurrency?: number;
  /** For tests: count or fake requests. */
  fetch?: typeof fetch;
}

/** Pulls `reference` into `store` and resolves with the new image record. */
export async function pullImage(
  store: AgentStore,
  reference: string | ImageReference,
  options: PullOptions = {},
): Promise<ImageRecord> {
  const release = await holdPullLock(store.layout);
  try {
    return await pullLocked(store, reference, options);
  } finally {
    await release();
  }
}

async function pullLocked(
  store: AgentStore,
  reference: string | ImageReference,
  options: PullOptions,
): Promise<ImageRecord> {
  const started = performance.now();
  const ref = typeof reference === 'string' ? parseReference(reference) : reference;
  const name = formatReference(ref);
  const emit = options.onProgress ?? (() => {});
  const explicit = options.platform === undefined ? undefined : toPlatform(options.platform);
  const want = explicit ?? hostPlatform();
  const client = createRegistryClient({
    registry: ref.registry,
    plainHttp: options.plainHttp || isPlainHttpByDefault(ref.registry),
    credentials: options.credentials ?? (await credentialsFor(store.layout.root, ref.registry)),
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });

  const top = await client.getManifest(ref.repository, ref.digest ?? (ref.tag as string), options.signal);
  if (ref.digest && top.digest !== ref.digest) {
    throw new Error(`manifest of ${name} hashes to ${top.digest}, not the digest asked for`);
  }
  const resolved = await resolveImage(client, ref, top, want, name, options.signal);
  const { manifest, body } = resolved;
  const blobs = uniqueBlobs(manifest);
  emit({ type: 'resolved', reference: name, manifestDigest: body.digest, platform: want, blobs });

  if (resolved.index) await storeBytes(store, resolved.index);
  await storeBytes(store, body);
  let downloadedBytes = 0;
  await eachLimited(
    blobs,
    options.concurrency ?? DEFAULT_CONCURRENCY,
    options.signal,
    async (blob, signal) => {
      if (await store.hasBlob(blob.digest)) {
        emit({ type: 'blob-done', blob, skipped: true });
        return;
      }
      emit({ type: 'blob-start', blob });
      const download = await client.getBlob(ref.repository, blob.digest, signal);
      let done = 0;
      try {
        await store.writeBlob(blob.digest, blob.size, download.body, (bytes) => {
          done += bytes;
          downloadedBytes += bytes;
          emit({ type: 'blob-progress', blob, done });
        });
      } finally {
        await download.cancel();
      }
      emit({ type: 'blob-done', blob, skipped: false });
    },
  );

  const config = await readConfig(store, manifest.config.digest, name);
  if (config.rootfs.diff_ids.length !== manifest.layers.length) {
    throw new Error(`image config of ${name} does not list one diff_id per layer`);
  }
  // An index entry's platform is what was matched; a lone manifest has only its config to go by.
  const platform = resolved.platform ?? platformOf(config, want);
  if (!platformMatches(want, platform)) {
    const message = `${name} is for ${formatPlatform(platform)}, not ${formatPlatform(want)}`;
    if (explicit) throw new Error(message);
    emit({ type: 'warning', message: `${message}: it may not run on this host` });
  }

  const record: ImageRecord = {
    reference: name,
    registry: ref.registry,
    repository: ref.repository,
    tag: ref.digest ? undefined : ref.tag,
    manifestDigest: body.digest,
    indexDigest: resolved.index?.digest,
    configDigest: manifest.config.digest,
    layers: manifest.layers.map(({ digest, mediaType, size }) => ({ digest, mediaType, size })),
    platform,
    size: manifest.layers.reduce((sum, layer) => sum + layer.size, 0),
    pulledAt: new Date().toISOString(),
  };
  await store.putImage(record);
  emit({ type: 'done', record, downloadedBytes, durationMs: performance.now() - started });
  return record;
}

/** The image manifest a top-level manifest leads to, through an index when it is one. */
async function resolveImage(
  client: RegistryClient,
  ref: ImageReference,
  top: FetchedManifest,
  want: Platform,
  name: string,
  signal: AbortSignal | undefined,
): Promise<{
  manifest: ImageManifest;
  body: FetchedManifest;
  index: FetchedManifest | undefined;
  platform: Platform | undefined;
}> {
  const parsed = parseManifest(top, name);
  if (parsed.kind === 'image') return { manifest: parsed, body: top, index: undefined, platform: undefined };
  const entry = selectManifest(parsed.entries, want, name);
  const child = await client.getManifest(ref.repository, entry.digest, signal);
  if (child.digest !== entry.digest || child.body.length !== entry.size) {
    throw new Error(`manifest ${entry.digest} of ${name} does not match its index entry (size or digest)`);
  }
  const image = parseManifest(child, name);
  if (image.kind === 'index') throw new Error(`${name}: nested indexes are not supported`);
  const { os, architecture, variant } = entry.platform as Platform;
  return {
    manifest: image,
    body: child,
    index: top,
    platform: variant ? { os, architecture, variant } : { os, architecture },
  };
}

function uniqueBlobs(manifest: ImageManifest): PullBlob[] {
  const blobs = new Map<string, PullBlob>();
  blobs.set(manifest.config.digest, {
    digest: manifest.config.digest,
    size: manifest.config.size,
    kind: 'config',
  });
  for (const layer of manifest.layers) {
    if (!blobs.has(layer.digest))
      blobs.set(layer.digest, { digest: layer.digest, size: layer.size, kind: 'layer' });
  }
  return [...blobs.values()];
}

async function storeBytes(store: AgentStore, manifest: FetchedManifest): Promise<void> {
  if (await store.hasBlob(manifest.digest)) return;
  await store.writeBlob(manifest.digest, manifest.body.length, Readable.from([manifest.body]));
}

async function readConfig(store: AgentStore, digest: string, name: string): Promise<ImageConfig> {
  let config: ImageConfig;
  try {
    config = await store.readJson<ImageConfig>(digest);
  } catch (error) {
    throw new Error(`image config of ${name} is unreadable: ${(error as Error).message}`);
  }
  if (!Array.isArray(config?.rootfs?.diff_ids))
    throw new Error(`image config of ${name} has no rootfs.diff_ids`);
  return config;
}

function platformOf(config: ImageConfig, fallback: Platform): Platform {
  if (typeof config.os !== 'string' || typeof config.architecture !== 'string') return fallback;
  const platform: Platform = { os: config.os, architecture: config.architecture };
  if (typeof config.variant === 'string' && config.variant) platform.variant = config.variant;
  return platform;
}

function toPlatform(value: string | Platform): Platform {
  return typeof value === 'string' ? parsePlatform(value) : value;
}

/**
 * Runs `work` over `items`, at most `limit` at once. The first failure aborts the others (their
 * signal fires) and is what rejects, once every started item has stopped.
 */
async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  outer: AbortSignal | undefined,
  work: (item: T, signal: AbortSignal) => Promise<void>,
): Promise<void> {
  const controller = new AbortController();
  const stop = () => controller.abort(outer?.reason);
  outer?.addEventListener('abort', stop, { once: true });
  if (outer?.aborted) stop();
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async () => {
    while (!failure && next < items.length) {
      const item = items[next++] as T;
      try {
        controller.signal.throwIfAborted();
        await work(item, controller.signal);
      } catch (error) {
        failure ??= { error };
        controller.abort(error);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  } finally {
    outer?.removeEventListener('abort', stop);
  }
  if (failure) throw failure.error;
}
