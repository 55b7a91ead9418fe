/**
 * The clients of the GC race test (test/e2e/gc-race.test.ts), in plain HTTP. Each pushes small
 * images into a repository of its own, drawing layers from a pool all clients share, and
 * deletes older images by digest, so that layers keep becoming unreferenced (GC candidates)
 * and are then referenced again. Before each blob upload it asks HEAD and skips the upload on
 * 200, as docker does; now and then it mounts a layer from another client's repository
 * instead. A push that GC overtook (MANIFEST_BLOB_UNKNOWN, or 503 UNAVAILABLE) is retried as
 * docker's retry would: every blob uploaded again, then the manifest. Requests alternate
 * between the replicas, so one upload session often spans both.
 */
import { randomBytes } from 'node:crypto';
import { imageManifest, jsonBlob, OCI_MANIFEST, randomBlob, type TestDescriptor } from '../../helpers/oci.js';

/** An image a client pushed (201) and has not deleted: it must pull whole. */
export interface PushedImage {
  repository: string;
  digest: string;
  /** Config and layers. */
  blobs: TestDescriptor[];
}

/** A blob of the shared pool, or an image's config. */
export interface Blob {
  content: Buffer;
  descriptor: TestDescriptor;
}

/** What the clients did, and what went wrong. */
export interface RaceTally {
  /** Images answered 201 and not deleted, by `repository@digest`. */
  live: Map<string, PushedImage>;
  pushed: number;
  deleted: number;
  /** Blob uploads skipped because HEAD answered 200. */
  skipped: number;
  mounts: number;
  /** Pushes GC overtook, which were then retried. */
  refusals: number;
  /** 5xx answers the clients met: each must be a clean refusal. */
  serverErrors: number;
  /** Images given up on after too many refusals in a row. */
  gaveUp: number;
  /** Answers no client should ever get. */
  unexpected: string[];
}

/** Options of runRaceClients. */
export interface RaceClientOptions {
  /** Base URLs of the replicas. */
  urls: string[];
  clients: number;
  pool: Blob[];
  /** Images each client keeps before deleting an older one. */
  keep: number;
  /** Asked before each image: true stops that client. */
  stopped: () => boolean;
}

/** Attempts of one image before it counts as given up. */
const MAX_ATTEMPTS = 10;

/** A pool of `count` random layers of 1–16 KiB. */
export function layerPool(count: number): Blob[] {
  return Array.from({ length: count }, () => randomBlob(1024 + Math.floor(Math.random() * 15 * 1024)));
}

/** An empty tally. */
export function emptyTally(): RaceTally {
  return {
    live: new Map(),
    pushed: 0,
    deleted: 0,
    skipped: 0,
    mounts: 0,
    refusals: 0,
    serverErrors: 0,
    gaveUp: 0,
    unexpected: [],
  };
}

/** Runs the clients until `stopped()`; resolves when each has finished its current image. */
export async function runRaceClients(options: RaceClientOptions, tally: RaceTally): Promise<void> {
  await Promise.all(
    Array.from({ length: options.clients }, (_, i) => runClient(options, tally, `race/client-${i}`)),
  );
}

/** The answer of one step: done, refused because GC overtook the push, or an error thrown. */
type Step = 'ok' | 'refused';

class Unexpected extends Error {}

async function runClient(options: RaceClientOptions, tally: RaceTally, repository: string): Promise<void> {
  const http = replicaClient(options.urls, tally);
  const mine: PushedImage[] = [];
  for (let n = 0; !options.stopped(); n++) {
    try {
      const image = await pushNewImage(http, repository, n, options, tally);
      if (!image) continue;
      mine.push(image);
      tally.live.set(keyOf(image), image);
      tally.pushed += 1;
      if (mine.length > options.keep) await deleteOlder(http, mine, tally);
    } catch (err) {
      if (!(err instanceof Unexpected)) throw err;
      tally.unexpected.push(`${repository}: ${err.message}`);
    }
  }
}

/** The key of an image in `RaceTally.live`. */
export function keyOf(image: Pick<PushedImage, 'repository' | 'digest'>): string {
  return `${image.repository}@${image.digest}`;
}

async function pushNewImage(
  http: ReplicaClient,
  repository: string,
  n: number,
  options: RaceClientOptions,
  tally: RaceTally,
): Promise<PushedImage | undefined> {
  const layers = pickDistinct(options.pool, 2 + (n % 2));
  // A config of its own makes every image a new manifest even when its layers repeat.
  const config = jsonBlob({
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: layers.map((layer) => layer.descriptor.digest) },
    config: { Labels: { image: `${repository}-${n}-${randomBytes(4).toString('hex')}` } },
  });
  const body = imageManifest({
    config: config.descriptor,
    layers: layers.map((layer) => layer.descriptor),
  });
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const again = attempt > 0;
    if ((await pushBlobs(http, repository, [config, ...layers], again, tally)) === 'refused') continue;
    const response = await http.send(`/v2/${repository}/manifests/i${n}`, {
      method: 'PUT',
      headers: { 'Content-Type': OCI_MANIFEST },
      body,
    });
    const step = await outcome(response, 201, 'manifest PUT');
    if (step === 'ok') {
      const digest = response.headers.get('docker-content-digest') ?? '';
      return { repository, digest, blobs: [config.descriptor, ...layers.map((layer) => layer.descriptor)] };
    }
    tally.refusals += 1;
  }
  tally.gaveUp += 1;
  return undefined;
}

/** Makes each blob present in the repository; `again` uploads every one (a retry). */
async function pushBlobs(
  http: ReplicaClient,
  repository: string,
  blobs: Blob[],
  again: boolean,
  tally: RaceTally,
): Promise<Step> {
  for (const blob of blobs) {
    if ((await pushBlob(http, repository, blob, again, tally)) === 'refused') {
      tally.refusals += 1;
      return 'refused';
    }
  }
  return 'ok';
}

async function pushBlob(
  http: ReplicaClient,
  repository: string,
  blob: Blob,
  again: boolean,
  tally: RaceTally,
): Promise<Step> {
  const { digest } = blob.descriptor;
  if (!again) {
    const source = Math.random() < 0.25 ? mountSource(tally, repository, digest) : undefined;
    if (source) return mount(http, repository, blob, source, tally);
    const head = await http.send(`/v2/${repository}/blobs/${digest}`, { method: 'HEAD' });
    if (head.status === 200) {
      tally.skipped += 1;
      return 'ok';
    }
    if (head.status !== 404) throw new Unexpected(`HEAD ${digest} answered ${head.status}`);
  }
  if (Math.random() < 0.5) {
    const response = await http.send(`/v2/${repository}/blobs/uploads/?digest=${digest}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/octet-stream' },
      body: blob.content,
    });
    return outcome(response, 201, 'monolithic upload');
  }
  const opened = await http.send(`/v2/${repository}/blobs/uploads/`, { method: 'POST' });
  if ((await outcome(opened, 202, 'upload POST')) === 'refused') return 'refused';
  return finishUpload(http, opened, blob);
}

/** PUTs the whole blob to the session a POST answered 202 with. */
async function finishUpload(http: ReplicaClient, opened: Response, blob: Blob): Promise<Step> {
  const location = opened.headers.get('location') ?? '';
  const separator = location.includes('?') ? '&' : '?';
  const response = await http.send(`${location}${separator}digest=${blob.descriptor.digest}`, {
    method: 'PUT',
    headers: { 'Content-Type': 'application/octet-stream' },
    body: blob.content,
  });
  return outcome(response, 201, 'upload PUT');
}

async function mount(
  http: ReplicaClient,
  repository: string,
  blob: Blob,
  from: string,
  tally: RaceTally,
): Promise<Step> {
  const { digest } = blob.descriptor;
  const response = await http.send(`/v2/${repository}/blobs/uploads/?mount=${digest}&from=${from}`, {
    method: 'POST',
  });
  if (response.status === 201) {
    tally.mounts += 1;
    await response.arrayBuffer();
    return 'ok';
  }
  // Not there (deleted, or taken by GC meanwhile): the registry opened an upload instead.
  if ((await outcome(response, 202, 'mount')) === 'refused') return 'refused';
  return finishUpload(http, response, blob);
}

/** Another client's repository that a live image says has the blob. */
function mountSource(tally: RaceTally, repository: string, digest: string): string | undefined {
  for (const image of tally.live.values()) {
    if (image.repository !== repository && image.blobs.some((blob) => blob.digest === digest))
      return image.repository;
  }
  return undefined;
}

/** Deletes one of the client's images other than the newest, by digest. */
async function deleteOlder(http: ReplicaClient, mine: PushedImage[], tally: RaceTally): Promise<void> {
  const [image] = mine.splice(Math.floor(Math.random() * (mine.length - 1)), 1);
  if (!image) return;
  // Out of the live set before the request, so a check running meanwhile does not count it lost.
  tally.live.delete(keyOf(image));
  const response = await http.send(`/v2/${image.repository}/manifests/${image.digest}`, { method: 'DELETE' });
  if ((await outcome(response, 202, 'manifest DELETE')) === 'refused')
    throw new Unexpected(`DELETE ${image.digest} was refused`);
  tally.deleted += 1;
}

/**
 * `ok` when the status is `expected`; `refused` for the answers of a push GC overtook; throws
 * Unexpected for anything else. Reads the body either way, so the connection is reused.
 */
async function outcome(response: Response, expected: number, what: string): Promise<Step> {
  const text = await response.text();
  if (response.status === expected) return 'ok';
  const code = errorCode(text);
  if (response.status === 400 && code === 'MANIFEST_BLOB_UNKNOWN') return 'refused';
  if (response.status === 503 && code === 'UNAVAILABLE' && /garbage collection/.test(text)) return 'refused';
  throw new Unexpected(`${what} answered ${response.status}: ${text.slice(0, 300)}`);
}

function errorCode(text: string): string | undefined {
  try {
    return (JSON.parse(text) as { errors?: Array<{ code?: string }> }).errors?.[0]?.code;
  } catch {
    return undefined;
  }
}

function pickDistinct<T>(items: T[], count: number): T[] {
  const picked = new Set<T>();
  while (picked.size < Math.min(count, items.length))
    picked.add(items[Math.floor(Math.random() * items.length)] as T);
  return [...picked];
}

/** Sends each request to the next replica in turn; counts 5xx answers. */
interface ReplicaClient {
  send(path: string, init: RequestInit): Promise<Response>;
}

function replicaClient(urls: string[], tally: RaceTally): ReplicaClient {
  let next = 0;
  return {
    async send(path, init) {
      const url = `${urls[next % urls.length]}${path}`;
      next += 1;
      const response = await fetch(url, init);
      if (response.status >= 500) tally.serverErrors += 1;
      return response;
    },
  };
}
