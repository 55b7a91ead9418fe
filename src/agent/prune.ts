/**
 * `berth agent prune`: removes stopped containers, then images no container uses (their
 * records and snapshots), then blobs no remaining image refers to. Like `docker system prune -a`.
 */
import { readdir, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { listContainerRecords } from './containers.js';
import { pruneContainers } from './lifecycle.js';
import { pullsInProgress } from './pull-lock.js';
import type { AgentStore } from './store.js';

/** What prune removed. */
export interface PruneReport {
  containers: string[];
  images: string[];
  snapshots: number;
  blobs: number;
  bytes: number;
  /** True when a pull was in progress, so no blob was removed. */
  blobsKept: boolean;
}

/** Prunes everything unused under the store's root. */
export async function pruneAll(store: AgentStore): Promise<PruneReport> {
  const { layout } = store;
  const containers = await pruneContainers(layout);
  const inUse = new Set(
    (await listContainerRecords(layout)).map((record) => basename(dirname(record.imageRootfs))),
  );

  const images: string[] = [];
  const keptBlobs = new Set<string>();
  const keptSnapshots = new Set<string>();
  for (const image of await store.listImages()) {
    const snapshot = basename(layout.snapshot(image.configDigest));
    if (!inUse.has(snapshot)) {
      await store.removeImage(image.reference);
      images.push(image.reference);
      continue;
    }
    keptSnapshots.add(snapshot);
    for (const digest of [
      image.manifestDigest,
      image.indexDigest,
      image.configDigest,
      ...image.layers.map((l) => l.digest),
    ]) {
      if (digest) keptBlobs.add(digest.slice('sha256:'.length));
    }
  }

  let snapshots = 0;
  for (const name of await entries(layout.snapshots)) {
    if (keptSnapshots.has(name) || inUse.has(name)) continue;
    await rm(join(layout.snapshots, name), { recursive: true, force: true });
    snapshots++;
  }

  let blobs = 0;
  let bytes = 0;
  const blobsKept = (await pullsInProgress(layout)) > 0;
  for (const name of blobsKept ? [] : await entries(layout.blobs)) {
    // Only finished blobs: a pull in progress writes temp files here too.
    if (keptBlobs.has(name) || !/^[0-9a-f]{64}$/.test(name)) continue;
    const file = join(layout.blobs, name);
    const info = await stat(file).catch(() => undefined);
    if (!info) continue;
    bytes += info.size;
    await rm(file, { force: true });
    blobs++;
  }
  return { containers, images, snapshots, blobs, bytes, blobsKept };
}

async function entries(dir: string): Promise<string[]> {
  return readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
}
