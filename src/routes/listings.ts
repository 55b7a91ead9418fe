/**
 * The read-only listings: `GET /v2/<name>/tags/list`, `GET /v2/_catalog` and
 * `GET /v2/<name>/referrers/<digest>`.
 */
import type { BerthContext } from '../http/context.js';
import { OCI_INDEX } from '../registry/media-types.js';
import type { Page, PageRequest } from '../registry/pagination.js';
import type { Registry } from '../registry/registry.js';
import { digestParam, nameParam, nextLink, pageParams, queryParam } from './params.js';

/** Largest page a listing returns, whatever `n` asks for; more come through `Link`. */
export const MAX_PAGE = 10_000;

/** Handlers of the listing endpoints. */
export function listingRoutes(registry: Registry) {
  return {
    async tags(ctx: BerthContext): Promise<void> {
      const name = nameParam(ctx);
      const request = pageParams(ctx, MAX_PAGE);
      const page = await registry.tags.list(name, request);
      ctx.body = { name, tags: withNextLink(ctx, `/v2/${name}/tags/list`, request, page) };
    },

    async catalog(ctx: BerthContext): Promise<void> {
      const request = pageParams(ctx, MAX_PAGE);
      const caller = ctx.state.caller;
      const page = await registry.catalog(request, (name) => caller?.lists(name) ?? false);
      ctx.body = { repositories: withNextLink(ctx, '/v2/_catalog', request, page) };
    },

    async referrers(ctx: BerthContext): Promise<void> {
      const name = nameParam(ctx);
      const subject = digestParam(ctx, 1);
      const artifactType = queryParam(ctx, 'artifactType') || undefined;
      const manifests = await registry.referrers.list(name, subject, artifactType);
      if (artifactType !== undefined) ctx.set('OCI-Filters-Applied', 'artifactType');
      ctx.set('Content-Type', OCI_INDEX);
      ctx.body = JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests });
    },
  };
}

/**
 * The page's results; sets `Link` to the next page at `path` when more remain, its `last`
 * being the `position` of the page's last result (the result itself for names).
 */
export function withNextLink<T>(
  ctx: BerthContext,
  path: string,
  request: PageRequest,
  page: Page<T>,
  position: (item: T) => string = String,
): T[] {
  const last = page.items.at(-1);
  if (page.more && last !== undefined) ctx.set('Link', nextLink(path, request.size, position(last)));
  return page.items;
}
