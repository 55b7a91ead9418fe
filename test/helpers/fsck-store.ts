/**
 * A store for `berth fsck` tests, on the filesystem or on S3 (s3rver): two in-process servers
 * (replicas) over it, a driver of its own to damage it with, the environment a `berth fsck`
 * reads it through, and the backend-specific tricks: changing a blob's bytes where they lie,
 * and making objects look old.
 */
import { utimes, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { checkedDriver } from '../../src/blobstore/checked.js';
import type { StorageDriver } from '../../src/blobstore/driver.js';
import { createFilesystemDriver } from '../../src/blobstore/filesystem.js';
import { createS3Driver } from '../../src/blobstore/s3.js';
import { headObject, putObject } from '../../src/blobstore/s3-objects.js';
import { pointerOf } from '../../src/blobstore/s3-pointers.js';
import { createS3Store } from '../../src/blobstore/s3-store.js';
import { fsckCommand } from '../../src/cli/fsck.js';
import type { CliIo } from '../../src/cli/io.js';
import { s3Options } from './s3-driver.js';
import { type S3TestServer, startS3Server } from './s3-server.js';
import { startTestServer, type TestServer } from './server.js';
import { removeDir, tempDir } from './tmp.js';

/** One store with two replicas serving it. */
export interface FsckStore {
  backend: 'filesystem' | 's3';
  replicas: [TestServer, TestServer];
  driver: StorageDriver;
  /** The BERTH_* variables that point `berth fsck` at the store. */
  env: Record<string, string>;
  /** The S3 endpoint, on S3. */
  s3?: S3TestServer;
  /** Replaces the bytes stored at a blob path with `bytes`, where the bytes really are. */
  corrupt(blobPath: string, bytes: Buffer): Promise<void>;
  /** Makes what is at `driverPath` (an object, a temp file, or S3 uploads of it) look last written at `when`. */
  backdate(driverPath: string, when: Date): Promise<void>;
  /** Writes a file the driver cannot (a temp file) at `driverPath`. */
  writeRaw(driverPath: string, content: string): Promise<void>;
  close(): Promise<void>;
}

const PREFIX = 'fsck';

/** Starts a store on `backend` with two replicas; `ttl: 0` so that replicas ask storage each time. */
export async function startFsckStore(backend: 'filesystem' | 's3'): Promise<FsckStore> {
  const root = await tempDir('berth-fsck-');
  const s3 = backend === 's3' ? await startS3Server({ conditional: true }) : undefined;
  // 5 MiB parts: a 6 MiB chunk is then a multipart upload, as a large layer is.
  const storage = s3 ? s3.storageConfig(PREFIX, { chunksize: 5 * 1024 * 1024 }) : { driver: 'filesystem' };
  const config = { storage: { ...storage, cache: { ttl: '0s' } } };
  const replicas: [TestServer, TestServer] = [
    await startTestServer({ root, config }),
    await startTestServer({ root, config }),
  ];
  if (!s3) {
    return {
      backend,
      replicas,
      driver: checkedDriver(await createFilesystemDriver({ rootDirectory: root })),
      env: { BERTH_STORAGE_FILESYSTEM_ROOTDIRECTORY: root },
      corrupt: (blobPath, bytes) => writeFile(path.join(root, blobPath), bytes),
      backdate: (driverPath, when) => utimes(path.join(root, driverPath), when, when),
      writeRaw: (driverPath, content) => writeFile(path.join(root, driverPath), content),
      close: () => closeAll(replicas, root),
    };
  }
  const options = { ...s3Options(s3, PREFIX), redirect: false };
  const store = createS3Store(options);
  return {
    backend,
    replicas,
    s3,
    driver: checkedDriver(await createS3Driver(options)),
    env: s3.env(PREFIX),
    async corrupt(blobPath, bytes) {
      const pointer = pointerOf((await headObject(store, blobPath))?.metadata);
      await putObject(store, pointer ? pointer.data : blobPath, bytes);
    },
    backdate: (driverPath, when) => s3.backdate(store.key(driverPath), when),
    writeRaw: async (driverPath, content) => {
      await putObject(store, driverPath, Buffer.from(content));
    },
    async close() {
      await closeAll(replicas, root);
      await s3.dispose();
    },
  };
}

async function closeAll(replicas: TestServer[], root: string): Promise<void> {
  for (const replica of replicas) await replica.stop();
  await removeDir(root);
}

/** What one `berth fsck` run printed and exited with. */
export interface FsckRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `berth fsck ...args` in-process against the store. */
export async function fsck(store: FsckStore, ...args: string[]): Promise<FsckRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdin: process.stdin,
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: store.env,
    now: Date.now,
  };
  const code = await fsckCommand(args, io);
  return { code, stdout, stderr };
}
