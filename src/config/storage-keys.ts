/**
 * The `storage.*` keys: the driver, its filesystem and S3 settings, deletes, the metadata caches
 * and upload purging, and the rules between them.
 */
import { OTHER_STORAGE_DRIVERS } from './distribution-keys.js';
import { boolean, httpUrlOrEmpty, nonEmptyString, oneOf, optionalString, positiveCount } from './parsers.js';
import { bucketName, keyPrefix, MAX_URL_EXPIRY, MIB, partSize, urlExpiry } from './s3-values.js';
import type { BerthConfig, KeySpec } from './schema.js';
import { parseDuration, parseSize } from './values.js';

const storageDriver = (value: unknown): 'filesystem' | 's3' => {
  if (value === 'filesystem' || value === 's3') return value;
  if (typeof value === 'string' && [...OTHER_STORAGE_DRIVERS, 'inmemory'].includes(value))
    throw new Error(`the ${value} driver is not part of this version of Berth yet; use filesystem or s3`);
  throw new Error(`expected filesystem or s3, got ${JSON.stringify(value)}`);
};

const cacheKind = (value: unknown): 'inmemory' | 'none' => {
  if (value === 'redis')
    throw new Error('redis is not supported: Berth caches in process; use inmemory or none');
  return oneOf('inmemory', 'none')(value);
};

/** The storage keys, in the order the README documents them. */
export const STORAGE_KEYS: readonly KeySpec[] = [
  { key: 'storage.driver', expects: 'filesystem or s3', parse: storageDriver, default: 'filesystem' },
  {
    key: 'storage.filesystem.rootdirectory',
    expects: 'a directory path',
    parse: nonEmptyString,
    default: './data',
  },
  { key: 'storage.s3.bucket', expects: 'a bucket name', parse: bucketName, default: '' },
  { key: 'storage.s3.region', expects: 'an AWS region', parse: nonEmptyString, default: 'us-east-1' },
  { key: 'storage.s3.regionendpoint', expects: 'a URL', parse: httpUrlOrEmpty, default: '' },
  { key: 'storage.s3.forcepathstyle', expects: 'true or false', parse: boolean, default: false },
  { key: 'storage.s3.rootdirectory', expects: 'a key prefix', parse: keyPrefix, default: '' },
  { key: 'storage.s3.accesskey', expects: 'an access key id', parse: optionalString, default: '' },
  { key: 'storage.s3.secretkey', expects: 'a secret access key', parse: optionalString, default: '' },
  { key: 'storage.s3.chunksize', expects: 'a size from 5MiB to 5GiB', parse: partSize, default: 16 * MIB },
  {
    key: 'storage.s3.multipartconcurrency',
    expects: 'a whole number >= 1',
    parse: positiveCount,
    default: 2,
  },
  { key: 'storage.s3.redirect', expects: 'true or false', parse: boolean, default: false },
  {
    key: 'storage.s3.redirectexpiry',
    expects: 'a duration from 1s to 7d',
    parse: urlExpiry,
    default: 20 * 60_000,
  },
  { key: 'storage.delete.enabled', expects: 'true or false', parse: boolean, default: true },
  {
    key: 'storage.cache.blobdescriptor',
    expects: 'inmemory or none',
    parse: cacheKind,
    default: 'inmemory',
  },
  { key: 'storage.cache.ttl', expects: 'a duration', parse: parseDuration, default: 1000 },
  {
    key: 'storage.cache.maxmemory',
    expects: 'a size in bytes',
    parse: parseSize,
    default: 32 * 1024 * 1024,
  },
  {
    key: 'storage.maintenance.uploadpurging.enabled',
    expects: 'true or false',
    parse: boolean,
    default: true,
  },
  {
    key: 'storage.maintenance.uploadpurging.age',
    expects: 'a duration',
    parse: parseDuration,
    default: 168 * 3_600_000,
  },
  {
    key: 'storage.maintenance.uploadpurging.interval',
    expects: 'a duration',
    parse: parseDuration,
    default: 24 * 3_600_000,
  },
  {
    key: 'storage.maintenance.uploadpurging.dryrun',
    expects: 'true or false',
    parse: boolean,
    default: false,
  },
];

/** The rules of the S3 keys. */
export function checkStorage(config: BerthConfig): string | undefined {
  const { s3 } = config.storage;
  if ((s3.accesskey === '') !== (s3.secretkey === ''))
    return 'storage.s3.accesskey and storage.s3.secretkey go together: set both, or neither to use the AWS credential chain (environment, profile, instance role, web identity)';
  if (s3.redirectexpiry > MAX_URL_EXPIRY)
    return 'storage.s3.redirectexpiry: expected a duration from 1s to 7d (the longest a presigned URL lives)';
  if (config.storage.driver !== 's3') return undefined;
  // The built-in token server's key needs no setting: it is kept in the store every replica shares.
  if (s3.bucket === '') return 'storage.driver s3 needs storage.s3.bucket';
  return undefined;
}

/**
 * The driver a configuration means although `storage.driver` is not set: in distribution's
 * config the section present names the driver (`storage: {s3: ...}`), so a config carried over
 * sets `storage.s3.*` alone, and that means S3, not a silent start on the local disk. `given`
 * are the keys set by the file or the environment. An explicit `storage.driver` always wins
 * (a full example config sets every key).
 */
export function impliedStorageDriver(given: readonly string[]): 's3' | undefined {
  if (given.includes('storage.driver')) return undefined;
  return given.some((key) => key.startsWith('storage.s3.')) ? 's3' : undefined;
}
