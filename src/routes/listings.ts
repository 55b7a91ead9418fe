/**
 * The read-only listings: `GET /v2/<name>/tags/list`, `GET /v2/_catalog` and
 * `GET /v2/<name>/referrers/<digest>`.
 */
import type { BerthContext } from '../http/context.js';
import { OCI_INDEX } from '../registry/media-types.js';
import { type PageRequest, paginate } from '../registry/pagination.js';
import type { Registry } from '../registry/registry.js';
import { digestParam, nameParam, nextLink, pageParams, queryParam } from './params.js';

/** Largest page a listing returns, whatever `n` asks for; more come through `Link`. */
export const MAX_PAGE = 10_000;

/** Handlers of the listing endpoints. */
export function listingRoutes(registry: Registry) {
  return {
    async tags(ctx: BerthContext): Promise<void> {
      const name = nameParam(ctx);
      const request = pageParams(ctx);
      ctx.body = {
        name,
        tags: pageOf(ctx, `/v2/${name}/tags/list`, request, await registry.tags.list(name)),
      };
    },

    async catalog(ctx: BerthContext): Promise<void> {
      const request = pageParams(ctx);
      const caller = ctx.state.caller;
      const visible = (await registry.catalog()).filter((name) => caller?.lists(name) ?? false);
      ctx.body = { repositories: pageOf(ctx, '/v2/_catalog', request, visible) };
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

/** The page of `sorted` that `request` asks for; sets `Link` to `path` when more remain. */
function pageOf<T extends string>(ctx: BerthContext, path: string, request: PageRequest, sorted: T[]): T[] {
  const page = paginate(sorted, request, MAX_PAGE);
  const last = page.items.at(-1);
  if (page.more && last !== undefined) {
    ctx.set('Link', nextLink(path, Math.min(request.n ?? MAX_PAGE, MAX_PAGE), last));
  }
  return page.items;
}
