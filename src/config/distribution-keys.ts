/**
 * Keys of CNCF distribution's config.yml that Berth does not implement, so that a carried-over
 * distribution config gets a precise answer instead of "unknown key". Two kinds:
 *
 * - ignored: Berth has no use for the setting, or already behaves as it asks; leaving it out
 *   changes nothing that matters, so Berth starts and warns.
 * - unsupported: the operator expects something Berth would not do (TLS, a pull-through cache,
 *   read-only mode, Azure storage); starting anyway would quietly break that expectation, so
 *   Berth refuses and says what to do instead.
 *
 * An entry covers its key and everything below it (`proxy` covers `proxy.remoteurl`).
 */

/** How Berth treats one distribution key. */
export interface DistributionKey {
  key: string;
  kind: 'ignored' | 'unsupported';
  /** Why, or what to do instead; one clause, no full stop. */
  note: string;
}

const ignored = (key: string, note: string): DistributionKey => ({ key, kind: 'ignored', note });
const unsupported = (key: string, note: string): DistributionKey => ({ key, kind: 'unsupported', note });

/** Storage drivers of distribution that Berth lacks. */
export const OTHER_STORAGE_DRIVERS: readonly string[] = ['azure', 'gcs', 'swift', 'oss'];

const otherDriver = (driver: string) =>
  unsupported(
    `storage.${driver}`,
    `the ${driver} storage driver is not part of Berth yet; use storage.s3 (with the store's S3-compatible endpoint) or storage.filesystem`,
  );

/** Settings of distribution's S3 driver that Berth has no key for. */
const S3_KEYS: readonly DistributionKey[] = [
  unsupported('storage.s3.secure', 'write the scheme into storage.s3.regionendpoint (http:// or https://)'),
  unsupported('storage.s3.v4auth', 'Berth always signs with AWS Signature Version 4; remove the key'),
  unsupported(
    'storage.s3.encrypt',
    'set default encryption on the bucket (SSE-S3 or SSE-KMS); S3 applies it to every object Berth writes',
  ),
  unsupported('storage.s3.keyid', "name the KMS key in the bucket's default encryption instead"),
  unsupported(
    'storage.s3.storageclass',
    "Berth writes the bucket's default storage class; move objects with a lifecycle rule on the bucket",
  ),
  unsupported(
    'storage.s3.skipverify',
    "Berth verifies the endpoint's TLS certificate; give node its CA with NODE_EXTRA_CA_CERTS",
  ),
  unsupported(
    'storage.s3.objectacl',
    "Berth writes objects with the bucket's default ACL; grant access with a bucket policy",
  ),
  unsupported(
    'storage.s3.sessiontoken',
    'leave accesskey/secretkey unset and set AWS_SESSION_TOKEN with the AWS_* variables',
  ),
  unsupported(
    'storage.s3.usedualstack',
    'set storage.s3.regionendpoint to the dual-stack endpoint (https://s3.dualstack.REGION.amazonaws.com)',
  ),
  unsupported(
    'storage.s3.accelerate',
    'set storage.s3.regionendpoint to the accelerate endpoint (https://s3-accelerate.amazonaws.com)',
  ),
  ignored(
    'storage.s3.multipartcopychunksize',
    'Berth never copies large objects: a committed upload stays where it was written',
  ),
  ignored('storage.s3.multipartcopymaxconcurrency', 'Berth never copies large objects'),
  ignored('storage.s3.multipartcopythresholdsize', 'Berth never copies large objects'),
  ignored('storage.s3.useragent', "Berth sends the AWS SDK's user agent"),
  ignored(
    'storage.s3.loglevel',
    'S3 requests are timed in /metrics (berth_storage_operation_duration_seconds)',
  ),
  ignored('storage.s3.checksumdisabled', 'Berth sends checksums only where S3 requires them'),
  ignored('storage.s3.checksumalgorithm', 'Berth sends checksums only where S3 requires them'),
  ignored('storage.s3.maxrequestspersecond', 'the AWS SDK backs off when S3 throttles'),
];

/** Every distribution key Berth knows but does not implement. */
export const DISTRIBUTION_KEYS: readonly DistributionKey[] = [
  ignored('version', 'Berth has one configuration format'),
  ignored('loglevel', 'use log.level'),
  ignored('log.fields', 'log lines carry fixed fields'),
  ignored('log.hooks', 'Berth writes its log to stdout only'),
  ignored('reporting', 'errors go to the log and to /metrics'),
  ignored('http.secret', 'upload sessions live on disk and need no secret'),
  ignored('http.relativeurls', 'Berth always answers with relative URLs'),
  ignored('http.host', 'Berth answers with relative URLs; set auth.token.realm for the public token URL'),
  ignored('http.debug', 'metrics are served on http.addr at metrics.path, health at /healthz and /readyz'),
  ignored('http.http2', 'Berth serves HTTP/1.1'),
  ignored('http.h2c', 'Berth serves HTTP/1.1'),
  ignored('health', 'probe /healthz and /readyz instead'),
  ignored('redis', 'Berth caches in process (storage.cache.blobdescriptor)'),
  ignored('storage.filesystem.maxthreads', 'Berth sizes its I/O thread pool itself'),
  ignored('storage.redirect', 'redirects to presigned URLs are storage.s3.redirect'),
  ignored('storage.tag', 'tag lookups need no tuning'),
  ignored('storage.cache.blobdescriptorsize', 'the in-process cache bounds itself'),
  ignored('auth.htpasswd.realm', 'the Basic challenge uses auth.basic.realm'),
  ignored(
    'auth.token.autoredirect',
    'with auth.token.realm empty, clients are already sent to /auth/token on the host they used',
  ),
  unsupported(
    'http.tls',
    'Berth serves plain HTTP; terminate TLS in a reverse proxy in front of it (see Deploying in the README)',
  ),
  unsupported(
    'http.prefix',
    'serve Berth at the root of a host name of its own, or strip the prefix in a proxy',
  ),
  unsupported('proxy', 'the pull-through cache is not part of Berth yet; remove the section'),
  unsupported(
    'notifications',
    'Berth sends no webhooks yet; follow its access log (one JSON line per request) instead',
  ),
  unsupported('middleware', 'Berth has no middleware (CDN redirects included); remove the section'),
  ...OTHER_STORAGE_DRIVERS.map(otherDriver),
  ...S3_KEYS,
  unsupported('storage.inmemory', 'use storage.filesystem, on a tmpfs for a throwaway registry'),
  unsupported(
    'storage.maintenance.readonly',
    'read-only mode is not part of Berth yet; a policy that grants only pull (auth.policy) stops pushes',
  ),
  unsupported(
    'auth.silly',
    'it is a test-only scheme; use auth.mode basic with auth.htpasswd.path or auth.policy',
  ),
  unsupported(
    'auth.token.signingalgorithms',
    'Berth accepts exactly one algorithm: set auth.token.algorithm (ES256 or RS256)',
  ),
  unsupported('auth.token.autoredirectpath', "set auth.token.realm to the token server's full URL"),
  unsupported(
    'validation.manifests.urls',
    'Berth does not check the URLs of foreign layers yet; remove the key',
  ),
  unsupported(
    'validation.manifests.indexes',
    'Berth does not check the platforms of indexes yet; remove the key',
  ),
];

/** The entry covering `key` (the key itself or a section above it), if any. */
export function distributionKey(key: string): DistributionKey | undefined {
  return DISTRIBUTION_KEYS.find((entry) => key === entry.key || key.startsWith(`${entry.key}.`));
}
