/**
 * The agent's content store (`blobs/sha256/`) and image records (`images/`), under the layout
 * of layout.ts. A blob only ever appears under its digest after its bytes were hashed and
 * counted on the way to disk, so whatever is found there can be trusted without re-reading it.
 * Temp files (dot-files: `.tmp-*` for blobs, `.<name>.<random>.tmp` for records) live next to
 * their final place, so the rename that publishes them is atomic; walkers of these directories
 * (prune, listImages) must skip them.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { syncDirectory, writeFileAtomic } from '../fs/atomic-write.js';
import type { ImageRecord } from './image.js';
import { type AgentLayout, agentLayout } from './layout.js';
import { normaliseReference, parseReference } from './reference.js';

/** The content store and image records of one agent root. */
export interface AgentStore {
  readonly layout: AgentLayout;
  /** Whether a verified blob with this digest is present. */
  hasBlob(digest: string): Promise<boolean>;
  /** Where a blob lives (whether or not it is there yet). */
  blobPath(digest: string): string;
  /**
   * Streams `source` into the store as `digest`, hashing and counting as it goes. Throws
   * naming the digest, and leaves nothing behind, when the bytes are not `size` long or do not
   * hash to `digest`. `onData` hears the length of each chunk written (for progress).
   */
  writeBlob(
    digest: string,
    size: number,
    source: AsyncIterable<Uint8Array>,
    onData?: (bytes: number) => void,
  ): Promise<void>;
  /** A blob parsed as JSON (manifests, configs). */
  readJson<T = unknown>(digest: string): Promise<T>;
  /** Writes (or replaces) the record of `record.reference`, atomically. */
  putImage(record: ImageRecord): Promise<void>;
  /**
   * The record for a reference (normalised or not: `alpine`, `127.0.0.1:5000/x`), or for an
   * image ID (a config-digest prefix of at least 12 hex digits, `sha256:` optional). Undefined
   * when nothing matches; throws when an ID prefix matches more than one image.
   */
  getImage(referenceOrId: string): Promise<ImageRecord | undefined>;
  /** Every record, most recently pulled first. */
  listImages(): Promise<ImageRecord[]>;
  /**
   * Removes the record of a reference, or every record of an image ID; returns what it
   * removed (empty when nothing matched). Blobs stay: collecting them is prune's job.
   */
  removeImage(referenceOrId: string): Promise<ImageRecord[]>;
}

const WRITE_BATCH_BYTES = 1024 * 1024;
const ID_PREFIX = /^(?:sha256:)?([0-9a-f]{12,64})$/;

/** Opens (creating the directories of) the store under `root`. */
export async function openStore(root: string): Promise<AgentStore> {
  const layout = agentLayout(root);
  await mkdir(layout.blobs, { recursive: true });
  await mkdir(layout.images, { recursive: true });

  const readRecord = async (file: string): Promise<ImageRecord | undefined> => {
    try {
      return JSON.parse(await readFile(file, 'utf8')) as ImageRecord;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new Error(`unreadable image record ${file}: ${(error as Error).message}`);
    }
  };

  const listImages = async (): Promise<ImageRecord[]> => {
    const names = (await readdir(layout.images)).filter(
      (name) => name.endsWith('.json') && !name.startsWith('.'),
    );
    const records = await Promise.all(names.map((name) => readRecord(join(layout.images, name))));
    return records
      .filter((record): record is ImageRecord => record !== undefined)
      .sort((a, b) => b.pulledAt.localeCompare(a.pulledAt) || a.reference.localeCompare(b.reference));
  };

  /** Records matching a reference, or every record of an image ID. */
  const resolve = async (text: string): Promise<ImageRecord[]> => {
    const reference = tryParse(text);
    if (reference) {
      const exact = await readRecord(layout.image(normaliseReference(text)));
      if (exact) return [exact];
      // Pulled by tag, asked for by digest (as `run` after `pull` may): the same manifest.
      if (reference.digest) {
        const same = (await listImages()).filter(
          (record) =>
            record.registry === reference.registry &&
            record.repository === reference.repository &&
            (record.manifestDigest === reference.digest || record.indexDigest === reference.digest),
        );
        if (same.length > 0) return same.slice(0, 1);
      }
    }
    const id = ID_PREFIX.exec(text)?.[1];
    if (!id) return [];
    const matches = (await listImages()).filter((record) => record.configDigest.startsWith(`sha256:${id}`));
    const configs = new Set(matches.map((record) => record.configDigest));
    if (configs.size > 1) throw new Error(`image ID ${text} is ambiguous: it matches ${configs.size} images`);
    return matches;
  };

  return {
    layout,
    blobPath: layout.blob,

    async hasBlob(digest) {
      try {
        return (await stat(layout.blob(digest))).isFile();
      } catch {
        return false;
      }
    },

    async writeBlob(digest, size, source, onData) {
      const target = layout.blob(digest);
      const temp = join(layout.blobs, `.tmp-${digest.slice(7, 19)}-${randomBytes(6).toString('hex')}`);
      const hash = createHash('sha256');
      const handle = await open(temp, 'wx', 0o644);
      try {
        let written = 0;
        let batch: Uint8Array[] = [];
        let batchBytes = 0;
        for await (const chunk of source) {
          written += chunk.length;
          // Stop a registry that sends more than it promised before it fills the disk.
          if (written > size)
            throw new Error(`blob ${digest} is larger than the ${size} bytes its descriptor says`);
          hash.update(chunk);
          // Network chunks are small; one write per chunk would make syscalls the bottleneck.
          batch.push(chunk);
          batchBytes += chunk.length;
          if (batchBytes >= WRITE_BATCH_BYTES) {
            await handle.writev(batch);
            batch = [];
            batchBytes = 0;
          }
          onData?.(chunk.length);
        }
        if (batch.length > 0) await handle.writev(batch);
        if (written !== size)
          throw new Error(`blob ${digest} has ${written} bytes, its descriptor says ${size}`);
        const actual = `sha256:${hash.digest('hex')}`;
        if (actual !== digest)
          throw new Error(`blob ${digest} failed verification: its content hashes to ${actual}`);
        await handle.sync();
        await handle.close();
        await rename(temp, target);
      } catch (error) {
        await handle.close().catch(() => {});
        await rm(temp, { force: true });
        throw error;
      }
      await syncDirectory(layout.blobs);
    },

    async readJson<T>(digest: string): Promise<T> {
      return JSON.parse(await readFile(layout.blob(digest), 'utf8')) as T;
    },

    async putImage(record) {
      await writeFileAtomic(layout.image(record.reference), `${JSON.stringify(record, null, 2)}\n`);
    },

    async getImage(referenceOrId) {
      return (await resolve(referenceOrId))[0];
    },

    listImages,

    async removeImage(referenceOrId) {
      const records = await resolve(referenceOrId);
      for (const record of records) await rm(layout.image(record.reference), { force: true });
      return records;
    },
  };
}

function tryParse(text: string): ReturnType<typeof parseReference> | undefined {
  try {
    return parseReference(text);
  } catch {
    return undefined;
  }
}
