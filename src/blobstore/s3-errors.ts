/**
 * What a failed S3 request means to the registry. The SDK has already retried throttling
 * (503 SlowDown, 429), 5xx answers and network errors with backoff by the time an error gets
 * here, so whatever of those is left means the store is unavailable.
 */
import {
  PathNotFoundError,
  PreconditionFailedError,
  StorageFullError,
  StorageUnavailableError,
} from './driver.js';

interface SdkErrorShape {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

function shapeOf(err: unknown): SdkErrorShape {
  return typeof err === 'object' && err !== null ? (err as SdkErrorShape) : {};
}

/** The HTTP status S3 answered, or undefined when no answer came (a network error). */
export function statusOf(err: unknown): number | undefined {
  return shapeOf(err).$metadata?.httpStatusCode;
}

/** The S3 error code (`NoSuchKey`, `SlowDown`, ...) or the system error code. */
export function codeOf(err: unknown): string {
  const shape = shapeOf(err);
  return shape.name && shape.name !== 'Error' ? shape.name : (shape.code ?? 'Error');
}

/** True when a request failed because its key does not exist. */
export function isMissingKey(err: unknown): boolean {
  const code = codeOf(err);
  if (code === 'NoSuchKey' || code === 'NotFound') return true;
  return statusOf(err) === 404 && code !== 'NoSuchBucket' && code !== 'NoSuchUpload';
}

/** True when a multipart upload is gone (completed or aborted). */
export function isNoSuchUpload(err: unknown): boolean {
  return codeOf(err) === 'NoSuchUpload';
}

/** True for a Range past the end of an object. */
export function isInvalidRange(err: unknown): boolean {
  return codeOf(err) === 'InvalidRange' || statusOf(err) === 416;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'TimeoutError',
  'RequestTimeout',
]);

/**
 * True when the store could not be asked at all: the SDK sent nothing that got an answer (its
 * errors carry `$metadata`), the connection broke while a body was read, or the bucket is gone.
 */
function unreachable(err: unknown): boolean {
  const shape = shapeOf(err);
  if (shape.$metadata !== undefined && statusOf(err) === undefined) return true;
  return NETWORK_CODES.has(codeOf(err)) || codeOf(err) === 'NoSuchBucket';
}

/** One line naming what failed and why, for logs and error messages. */
export function describeFailure(err: unknown): string {
  const shape = shapeOf(err);
  const status = statusOf(err);
  const attempts = shape.$metadata?.attempts;
  const parts = [codeOf(err)];
  if (status !== undefined) parts.push(`HTTP ${status}`);
  if (attempts !== undefined && attempts > 1) parts.push(`after ${attempts} attempts`);
  const message = shape.message && shape.message !== codeOf(err) ? `: ${shape.message}` : '';
  return `${parts.join(', ')}${message}`;
}

/**
 * The driver error for a failed request on `path`: PathNotFoundError for a missing key,
 * PreconditionFailedError for a refused condition (412, or 409 when a concurrent conditional
 * write won), StorageFullError for a store out of space, StorageUnavailableError for anything
 * that kept failing or could not be sent (and for refused credentials: every request would
 * fail alike). Other errors (a malformed request, a programming error) stay as they are.
 */
export function toDriverError(err: unknown, path: string, operation: string): unknown {
  if (
    err instanceof PathNotFoundError ||
    err instanceof PreconditionFailedError ||
    err instanceof StorageUnavailableError
  )
    return err;
  const status = statusOf(err);
  const code = codeOf(err);
  if (isMissingKey(err)) return new PathNotFoundError(path);
  if (status === 412 || code === 'PreconditionFailed' || code === 'ConditionalRequestConflict')
    return new PreconditionFailedError(path);
  if (status === 507 || code === 'XMinioStorageFull') return new StorageFullError(path, { cause: err });
  if (unreachable(err) || (status !== undefined && (status >= 500 || status === 429 || status === 403)))
    return new StorageUnavailableError(`S3 ${operation} of ${path} failed: ${describeFailure(err)}`, {
      cause: err,
    });
  return err;
}
