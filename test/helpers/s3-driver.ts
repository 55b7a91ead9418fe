/**
 * S3 drivers for tests: each on the shared s3rver of its test file, under a root directory
 * of its own (so tests need no server each), with a look at what the driver left behind.
 */
import { randomUUID } from 'node:crypto';
import type { StorageDriver } from '../../src/blobstore/driver.js';
import { createS3Driver, type S3DriverOptions } from '../../src/blobstore/s3.js';
import { deleteKeys, headObject, listPages } from '../../src/blobstore/s3-objects.js';
import { pointerOf } from '../../src/blobstore/s3-pointers.js';
import { createS3Store, type S3Store } from '../../src/blobstore/s3-store.js';
import type { S3TestServer } from './s3-server.js';

/** A driver under a fresh root directory of a test S3 server. */
export interface S3DriverFixture {
  driver: StorageDriver;
  /** The same bucket and root, for looking at objects directly. */
  store: S3Store;
  rootDirectory: string;
  /** Staging leftovers: incomplete uploads, tails no pointer names, head objects, probes. */
  leftovers(): Promise<string[]>;
  /** Deletes everything under the root directory. */
  dispose(): Promise<void>;
}

/** The driver options for `server`, under `rootDirectory`, with 5 MiB parts. */
export function s3Options(server: S3TestServer, rootDirectory: string): S3DriverOptions {
  return {
    bucket: server.bucket,
    region: server.region,
    endpoint: server.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKey, secretAccessKey: server.secretKey },
    rootDirectory,
    chunkSize: 5 * 1024 * 1024,
    multipartConcurrency: 2,
    redirect: true,
    redirectExpirySeconds: 60,
    maxAttempts: 3,
  };
}

/** Creates a driver (start-up checks included) under a fresh root directory. */
export async function createS3DriverFixture(
  server: S3TestServer,
  options: Partial<S3DriverOptions> = {},
): Promise<S3DriverFixture> {
  const rootDirectory = `test-${randomUUID()}`;
  const settings = { ...s3Options(server, rootDirectory), ...options };
  const store = createS3Store(settings);
  return {
    driver: await createS3Driver(settings),
    store,
    rootDirectory,
    leftovers: () => leftovers(server, store, rootDirectory),
    async dispose() {
      const keys: string[] = [];
      for await (const page of listPages(store, '/', { Prefix: `${rootDirectory}/` }))
        for (const entry of page.Contents ?? []) keys.push(entry.Key ?? '');
      await deleteKeys(store, keys, '/');
    },
  };
}

async function leftovers(server: S3TestServer, store: S3Store, rootDirectory: string): Promise<string[]> {
  const uploads = (await server.incompleteUploads()).filter((key) => key.startsWith(`${rootDirectory}/`));
  const keys: string[] = [];
  const pointed = new Set<string>();
  for await (const page of listPages(store, '/', { Prefix: `${rootDirectory}/` })) {
    for (const entry of page.Contents ?? []) {
      const key = entry.Key ?? '';
      keys.push(key);
      if (entry.Size !== 0) continue;
      const pointer = pointerOf((await headObject(store, store.pathOf(key)))?.metadata);
      if (pointer) pointed.add(store.key(pointer.data));
    }
  }
  const staging = keys.filter(
    (key) =>
      (/\.t-[0-9a-f]+$/.test(key) && !pointed.has(key)) || key.endsWith('.head') || key.includes('/_probe/'),
  );
  return [...uploads.map((key) => `incomplete upload of ${key}`), ...staging];
}
