/**
 * A store for the GC bench, written straight through Berth's driver and registry services
 * rather than pushed over HTTP (which would take far longer and measure pushes): images of one
 * config and a few layers, every blob their own, spread over repositories, with the images of
 * every other index deleted again so that half the store is garbage. Blob data and layer links
 * go through the driver; manifests through the manifest service, so that each revision records
 * its references as a push's does. Bounded in memory: an image's blobs are made when it is
 * written, and a few images are in flight at once, whatever the size of the store.
 */
import { randomBytes } from 'node:crypto';
import { orMissing, type StorageDriver } from '../src/blobstore/driver.js';
import {
  BLOBS_ROOT,
  blobDataPath,
  CATALOG_ROOT,
  layerLinkPath,
  REPOSITORIES_ROOT,
} from '../src/blobstore/layout.js';
import type { Digest } from '../src/registry/digest.js';
import { forEachLimited } from '../src/registry/limited.js';
import type { RepositoryName, Tag } from '../src/registry/names.js';
import { createRegistry, type Registry } from '../src/registry/registry.js';
import { imageManifest, jsonBlob, OCI_MANIFEST, randomBlob } from '../test/helpers/oci.js';

/** The shape of the store. */
export interface SeedShape {
  /** Images written; every other one is deleted again. */
  images: number;
  layersPerImage: number;
  /** Bytes of each layer (configs are small JSON). */
  layerSize: number;
  repositories: number;
  /** Distinguishes the repositories of one seeding from those of another. */
  prefix: string;
}

/** What a seeding left in the store. */
export interface SeededStore {
  manifests: number;
  blobs: number;
  bytes: number;
  /** Blobs and bytes no manifest references any more. */
  garbageBlobs: number;
  garbageBytes: number;
}

/** Images written at once. */
const IMAGES_IN_FLIGHT = 16;

/** Writes the store `shape` describes; resolves with what it holds. */
export async function seedGcStore(driver: StorageDriver, shape: SeedShape): Promise<SeededStore> {
  const registry = createRegistry({
    driver,
    deleteEnabled: true,
    cache: 'none',
    manifestLimits: { maxDescriptors: shape.layersPerImage + 1 },
  });
  const seeded: SeededStore = { manifests: 0, blobs: 0, bytes: 0, garbageBlobs: 0, garbageBytes: 0 };
  const indexes = Array.from({ length: shape.images }, (_, i) => i);
  await forEachLimited(indexes, IMAGES_IN_FLIGHT, async (i) => {
    const name = `${shape.prefix}-${i % shape.repositories}` as RepositoryName;
    const bytes = await writeImage(driver, registry, name, i, shape);
    const garbage = i % 2 === 1;
    seeded.blobs += shape.layersPerImage + 1;
    seeded.bytes += bytes;
    if (garbage) {
      seeded.garbageBlobs += shape.layersPerImage + 1;
      seeded.garbageBytes += bytes;
    } else {
      seeded.manifests += 1;
    }
  });
  return seeded;
}

/** Writes one image (its blobs, links and tagged manifest; deleted again when `i` is odd); resolves with its blob bytes. */
async function writeImage(
  driver: StorageDriver,
  registry: Registry,
  name: RepositoryName,
  i: number,
  shape: SeedShape,
): Promise<number> {
  const layers = Array.from({ length: shape.layersPerImage }, () => randomBlob(shape.layerSize));
  const config = jsonBlob({
    architecture: 'amd64',
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: layers.map((layer) => layer.descriptor.digest) },
    config: { Labels: { seed: `${shape.prefix}-${i}-${randomBytes(4).toString('hex')}` } },
  });
  const blobs = [config, ...layers];
  await Promise.all(
    blobs.map(async ({ content, descriptor }) => {
      const digest = descriptor.digest as Digest;
      await driver.putContent(blobDataPath(digest), content);
      await driver.putContent(layerLinkPath(name, digest), EMPTY);
    }),
  );
  const body = imageManifest({ config: config.descriptor, layers: layers.map((layer) => layer.descriptor) });
  const { digest } = await registry.manifests.put(name, { tag: `i${i}` as Tag }, body, {
    contentType: OCI_MANIFEST,
  });
  if (i % 2 === 1) await registry.manifests.delete(name, { digest });
  return blobs.reduce((sum, blob) => sum + blob.content.length, 0);
}

const EMPTY = Buffer.alloc(0);

/** Removes every repository and blob, so that the next seeding starts from an empty store. */
export async function wipeStore(driver: StorageDriver): Promise<void> {
  for (const root of [REPOSITORIES_ROOT, BLOBS_ROOT, CATALOG_ROOT])
    await orMissing(driver.delete(root), undefined);
}
