/**
 * Parsing of URL path captures and query parameters into validated domain values. Names are
 * checked on the raw path (no decoding), so percent-encoded slashes or dots are refused.
 */
import type { BerthContext } from '../http/context.js';
import { type Digest, looksLikeDigest, parseDigest } from '../registry/digest.js';
import { RegistryError } from '../registry/errors.js';
import type { Reference } from '../registry/manifests.js';
import { parseName, parseTag, type RepositoryName, type Tag } from '../registry/names.js';
import type { PageRequest } from '../registry/pagination.js';

/** The raw text of a path capture. */
export function capture(ctx: BerthContext, index: number): string {
  return ctx.captures?.[index] ?? '';
}

/** The repository name from the first capture. */
export function nameParam(ctx: BerthContext): RepositoryName {
  return parseName(capture(ctx, 0));
}

/** A digest from a path capture. */
export function digestParam(ctx: BerthContext, index: number): Digest {
  return parseDigest(decode(capture(ctx, index)));
}

/** A manifest reference (tag or digest) from a path capture. */
export function referenceParam(ctx: BerthContext, index: number): Reference {
  const text = decode(capture(ctx, index));
  return looksLikeDigest(text) ? { digest: parseDigest(text) } : { tag: parseTag(text) };
}

/** Every `tag` query parameter (a manifest push by digest), validated, without repeats. */
export function tagParams(ctx: BerthContext): Tag[] {
  const values = ctx.query.tag;
  if (values === undefined) return [];
  return [...new Set((Array.isArray(values) ? values : [values]).map(parseTag))];
}

/** A single-valued query parameter; repeated parameters take the first value. */
export function queryParam(ctx: BerthContext, key: string): string | undefined {
  const value = ctx.query[key];
  return Array.isArray(value) ? value[0] : value;
}

/** `n` and `last` of a paginated listing; pages hold `maxSize` results at most, whatever `n` says. */
export function pageParams(ctx: BerthContext, maxSize: number): PageRequest {
  const request: PageRequest = { size: maxSize };
  const n = queryParam(ctx, 'n');
  if (n !== undefined && n !== '') {
    if (!/^\d{1,9}$/.test(n)) {
      throw new RegistryError('UNSUPPORTED', 'pagination parameter n must be a non-negative integer', {
        status: 400,
        detail: { n: n.slice(0, 50) },
      });
    }
    request.size = Math.min(Number(n), maxSize);
  }
  const last = queryParam(ctx, 'last');
  if (last !== undefined && last !== '') request.last = last;
  return request;
}

/** A `Link` header value pointing at the next page. */
export function nextLink(path: string, n: number, last: string): string {
  return `<${path}?n=${n}&last=${encodeURIComponent(last)}>; rel="next"`;
}

function decode(text: string): string {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}
