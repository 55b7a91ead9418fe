/**
 * The bucket the S3 driver works in: the SDK client (keep-alive connections, the SDK's
 * standard retries, checksums only where S3 requires them) and the mapping of driver paths to
 * object keys under `storage.s3.rootdirectory`.
 */
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { S3Client } from '@aws-sdk/client-s3';
import { toDriverError } from './s3-errors.js';

/** How to reach the bucket. */
export interface S3Connection {
  bucket: string;
  region: string;
  /** An S3-compatible endpoint URL (MinIO, R2, Ceph), or empty for AWS. */
  endpoint: string;
  forcePathStyle: boolean;
  /** Static credentials; without them the SDK's default chain (env, profile, IMDS, web identity). */
  credentials?: { accessKeyId: string; secretAccessKey: string };
  /** Key prefix of everything Berth stores, with or without slashes; empty for the bucket's root. */
  rootDirectory: string;
  /** Attempts per request, the first included, before a failure counts (default 4). */
  maxAttempts?: number;
}

/** The client plus the key mapping that every part of the driver shares. */
export interface S3Store {
  readonly client: S3Client;
  readonly bucket: string;
  /** The object key of a driver path. */
  key(path: string): string;
  /** The key prefix of everything below a driver path: ends in `/` (or is empty for `/` at the bucket's root). */
  prefixOf(path: string): string;
  /** The driver path of a key below the root. */
  pathOf(key: string): string;
  /** Runs one request about `path`, turning its failure into the driver's errors. */
  call<T>(operation: string, path: string, request: () => Promise<T>): Promise<T>;
}

/**
 * Sockets per protocol. Each staged write keeps `multipartconcurrency` parts in flight and
 * every blob download holds one socket while the client reads, so be generous.
 */
const MAX_SOCKETS = 256;

/** Creates the client and key mapping for a connection. */
export function createS3Store(connection: S3Connection): S3Store {
  const client = new S3Client({
    region: connection.region,
    ...(connection.endpoint !== '' ? { endpoint: connection.endpoint } : {}),
    forcePathStyle: connection.forcePathStyle,
    ...(connection.credentials ? { credentials: connection.credentials } : {}),
    // Many S3-compatible stores reject the SDK's newer default checksum headers.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    retryMode: 'standard',
    maxAttempts: connection.maxAttempts ?? 4,
    requestHandler: {
      httpAgent: new HttpAgent({ keepAlive: true, maxSockets: MAX_SOCKETS }),
      httpsAgent: new HttpsAgent({ keepAlive: true, maxSockets: MAX_SOCKETS }),
      connectionTimeout: 5_000,
      // An idle socket for this long means the store hung; a download paused this long by a
      // slow client is given up too.
      socketTimeout: 120_000,
    },
  });
  const root = rootPrefix(connection.rootDirectory);
  const key = (path: string): string => (path === '/' ? root : root + path.slice(1));

  return {
    client,
    bucket: connection.bucket,
    key,
    prefixOf: (path) => (path === '/' ? root : `${key(path)}/`),
    pathOf: (objectKey) => `/${objectKey.slice(root.length)}`,
    async call(operation, path, request) {
      try {
        return await request();
      } catch (err) {
        throw toDriverError(err, path, operation);
      }
    },
  };
}

/** `a/b/`, from `a/b`, `/a/b/` or `a/b/`; empty for the bucket's root. */
function rootPrefix(rootDirectory: string): string {
  const trimmed = rootDirectory.replace(/^\/+|\/+$/g, '');
  return trimmed === '' ? '' : `${trimmed}/`;
}
