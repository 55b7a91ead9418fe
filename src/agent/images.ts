/**
 * From a reference to something runc can start: the image record (pulled when missing), its
 * config, and its snapshot (unpacked once, verified against the config's diff_ids).
 */
import type { ImageConfig, ImageRecord } from './image.js';
import { type PullOptions, pullImage } from './pull.js';
import type { AgentStore } from './store.js';
import { type UnpackProgress, unpackSnapshot } from './unpack/index.js';

/** When `run` pulls: only when the image is missing (docker's default), always, or never. */
export type PullPolicy = 'missing' | 'always' | 'never';

/** The image for `reference`, pulled according to `policy`. */
export async function ensureImage(
  store: AgentStore,
  reference: string,
  policy: PullPolicy,
  pullOptions: PullOptions,
): Promise<ImageRecord> {
  const present = policy === 'always' ? undefined : await store.getImage(reference);
  if (present) return present;
  if (policy === 'never') throw new Error(`image ${reference} is not present and --pull=never was given`);
  return pullImage(store, reference, pullOptions);
}

/** A runnable image: where its rootfs is and what its config says. */
export interface ImageSnapshot {
  rootfs: string;
  config: ImageConfig;
  warnings: string[];
}

/** Unpacks `record` into its snapshot unless that was done before. */
export async function imageSnapshot(
  store: AgentStore,
  record: ImageRecord,
  onProgress?: (progress: UnpackProgress) => void,
): Promise<ImageSnapshot> {
  const config = await store.readJson<ImageConfig>(record.configDigest);
  const diffIds = config.rootfs?.diff_ids ?? [];
  if (diffIds.length !== record.layers.length)
    throw new Error(
      `image ${record.reference}: the config lists ${diffIds.length} diff_ids for ${record.layers.length} layers`,
    );
  const { rootfs, warnings } = await unpackSnapshot({
    snapshotDir: store.layout.snapshot(record.configDigest),
    layers: record.layers.map((layer, i) => ({
      path: store.blobPath(layer.digest),
      mediaType: layer.mediaType,
      diffId: diffIds[i] as string,
    })),
    ...(onProgress ? { onProgress } : {}),
  });
  return { rootfs, config, warnings };
}
