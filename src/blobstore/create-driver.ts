/**
 * The storage driver the configuration asks for. The S3 driver (and with it the AWS SDK) is
 * imported only when `storage.driver` is s3, so filesystem users never load the SDK.
 */
import * as nodePath from 'node:path';
import { withConfigKey } from '../config/load.js';
import type { BerthConfig } from '../config/schema.js';
import type { StorageDriver } from './driver.js';
import { createFilesystemDriver } from './filesystem.js';

/** A driver built from the configuration, with what start-up says and does about it. */
export interface ConfiguredStorage {
  driver: StorageDriver;
  /** Where the data lives, for the start-up line: a directory, or `s3://bucket/prefix at endpoint`. */
  location: string;
  /** The local storage directory, when there is one (the filesystem driver's root). */
  localRoot?: string;
}

/**
 * Creates the configured driver. A root directory or bucket that cannot be used rejects with
 * a ConfigError naming the key.
 */
export async function createConfiguredDriver(storage: BerthConfig['storage']): Promise<ConfiguredStorage> {
  if (storage.driver === 's3') return createS3Storage(storage.s3);
  const root = nodePath.resolve(storage.filesystem.rootdirectory);
  const driver = await withConfigKey('storage.filesystem.rootdirectory', () =>
    createFilesystemDriver({ rootDirectory: root }),
  );
  return { driver, location: root, localRoot: root };
}

async function createS3Storage(s3: BerthConfig['storage']['s3']): Promise<ConfiguredStorage> {
  const { createS3Driver } = await import('./s3.js');
  const driver = await withConfigKey('storage.s3.bucket', () =>
    createS3Driver({
      bucket: s3.bucket,
      region: s3.region,
      endpoint: s3.regionendpoint,
      forcePathStyle: s3.forcepathstyle,
      ...(s3.accesskey !== ''
        ? { credentials: { accessKeyId: s3.accesskey, secretAccessKey: s3.secretkey } }
        : {}),
      rootDirectory: s3.rootdirectory,
      chunkSize: s3.chunksize,
      multipartConcurrency: s3.multipartconcurrency,
      redirect: s3.redirect,
      redirectExpirySeconds: Math.round(s3.redirectexpiry / 1000),
    }),
  );
  const prefix = s3.rootdirectory === '' ? '' : `/${s3.rootdirectory}`;
  const endpoint = s3.regionendpoint !== '' ? s3.regionendpoint : `AWS region ${s3.region}`;
  return { driver, location: `s3://${s3.bucket}${prefix} at ${endpoint}` };
}
