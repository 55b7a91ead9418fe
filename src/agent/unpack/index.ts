/**
 * Unpacking an image's layers into its snapshot, once:
 *
 *   <snapshotDir>/
 *   ├── rootfs.tmp-<random>/   built here, layer by layer; removed on any failure
 *   ├── rootfs/                the finished tree, renamed into place
 *   └── complete               written last; its presence means rootfs is whole and verified
 *
 * Each layer's uncompressed bytes are hashed while they are applied and checked against the
 * image config's diff_id before the next layer starts.
 */
import { randomBytes } from 'node:crypto';
import { access, chmod, mkdir, rename, rm, rmdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { layerApplier, type UnpackState } from './apply.js';
import { type LayerStream, openLayer } from './decompress.js';
import { readTar } from './tar.js';

/** One layer to apply: the blob on disk, its media type and the config's diff_id for it. */
export interface UnpackLayer {
  path: string;
  mediaType: string;
  diffId: string;
}

/** Progress through the layers, reported as bytes are read. */
export interface UnpackProgress {
  /** 0-based index of the layer being unpacked. */
  layer: number;
  layers: number;
  /** Bytes of this layer's blob read so far. */
  compressedBytes: number;
  /** Uncompressed bytes of this layer applied so far. */
  uncompressedBytes: number;
  /** True once for each layer, after it was verified. */
  done: boolean;
}

/** What {@link unpackSnapshot} needs. */
export interface UnpackOptions {
  snapshotDir: string;
  layers: UnpackLayer[];
  onProgress?: (progress: UnpackProgress) => void;
}

/** The finished rootfs, and what was skipped or refused without failing the unpack. */
export interface UnpackResult {
  rootfs: string;
  warnings: string[];
}

/**
 * Unpacks `layers` in order into `<snapshotDir>/rootfs` and writes `<snapshotDir>/complete`;
 * returns at once when `complete` exists. Throws naming the layer when a layer is unreadable,
 * hostile beyond containment, or does not match its diff_id; nothing is left behind then.
 */
export async function unpackSnapshot(options: UnpackOptions): Promise<UnpackResult> {
  const snapshotDir = resolve(options.snapshotDir);
  const rootfs = join(snapshotDir, 'rootfs');
  const complete = join(snapshotDir, 'complete');
  if (await exists(complete)) return { rootfs, warnings: [] };

  const createdDir = !(await exists(snapshotDir));
  await mkdir(snapshotDir, { recursive: true, mode: 0o700 });
  const building = join(snapshotDir, `rootfs.tmp-${randomBytes(6).toString('hex')}`);
  const warnings: string[] = [];
  try {
    await mkdir(building, { mode: 0o755 });
    await chmod(building, 0o755);
    const state: UnpackState = { xattrNames: new Map() };
    for (const [index, layer] of options.layers.entries()) {
      const name = `layer ${index + 1} of ${options.layers.length} (${layer.diffId})`;
      try {
        const layerWarnings = await unpackLayer(building, layer, state, index, options);
        warnings.push(...layerWarnings.map((warning) => `${name}: ${warning}`));
      } catch (error) {
        throw new Error(`${name}: ${error instanceof Error ? error.message : String(error)}`, {
          cause: error,
        });
      }
    }
    if (await commit(building, rootfs, complete, options.layers)) return { rootfs, warnings };
    // Another unpacker finished the same snapshot first; ours is a duplicate.
    await rm(building, { recursive: true, force: true });
    return { rootfs, warnings: [] };
  } catch (error) {
    await rm(building, { recursive: true, force: true });
    if (createdDir) await rmdir(snapshotDir).catch(() => {});
    throw error;
  }
}

async function unpackLayer(
  rootfs: string,
  layer: UnpackLayer,
  state: UnpackState,
  index: number,
  options: UnpackOptions,
): Promise<string[]> {
  if (!/^sha256:[0-9a-f]{64}$/.test(layer.diffId)) throw new Error(`unsupported diff_id ${layer.diffId}`);
  let compressedBytes = 0;
  let stream: LayerStream | undefined;
  const report = (done: boolean): void =>
    options.onProgress?.({
      layer: index,
      layers: options.layers.length,
      compressedBytes,
      uncompressedBytes: stream?.uncompressedBytes() ?? 0,
      done,
    });
  stream = await openLayer(layer.path, layer.mediaType, (count) => {
    compressedBytes += count;
    report(false);
  });
  const warnings = [...stream.warnings];
  const applier = layerApplier(rootfs, state, warnings);
  for await (const entry of readTar(stream.chunks)) await applier.apply(entry);
  await applier.finish();
  const digest = stream.digest();
  if (digest !== layer.diffId) {
    throw new Error(`uncompressed content has digest ${digest}, not the diff_id the image config names`);
  }
  report(true);
  return warnings;
}

/**
 * Renames the built tree into place and marks it complete. False when another unpacker got
 * there first. A `rootfs` without `complete` is a crashed unpack's, and is replaced.
 */
async function commit(
  building: string,
  rootfs: string,
  complete: string,
  layers: UnpackLayer[],
): Promise<boolean> {
  for (let attempt = 0; ; attempt++) {
    try {
      await rename(building, rootfs);
      break;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if ((code !== 'ENOTEMPTY' && code !== 'EEXIST') || attempt > 0) throw error;
      // Give a concurrent unpacker between its rename and its marker a moment to finish.
      for (let wait = 0; wait < 10 && !(await exists(complete)); wait++) await sleep(100);
      if (await exists(complete)) return false;
      const stale = `${rootfs}.stale-${randomBytes(6).toString('hex')}`;
      await rename(rootfs, stale);
      await rm(stale, { recursive: true, force: true });
    }
  }
  const marker = { diffIds: layers.map((layer) => layer.diffId), unpackedAt: new Date().toISOString() };
  await writeFile(complete, `${JSON.stringify(marker)}\n`);
  return true;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

function sleep(ms: number): Promise<void> {
  return new Promise((done) => setTimeout(done, ms));
}
