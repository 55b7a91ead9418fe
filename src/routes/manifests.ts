/** `GET`/`HEAD`/`PUT`/`DELETE /v2/<name>/manifests/<reference>`. */
import { type BerthContext, respondEmpty } from '../http/context.js';
import { readLimitedBody } from '../http/read-body.js';
import type { Registry } from '../registry/registry.js';
import { actorOf } from './access.js';
import { nameParam, referenceParam, tagParams } from './params.js';

/** Options of the manifest routes. */
export interface ManifestRouteOptions {
  /** Largest manifest body accepted, in bytes (`validation.manifests.maxsize`). */
  maxSize: number;
}

/** Handlers of the manifest endpoints. */
export function manifestRoutes(registry: Registry, { maxSize }: ManifestRouteOptions) {
  return {
    async get(ctx: BerthContext): Promise<void> {
      const name = nameParam(ctx);
      const reference = referenceParam(ctx, 1);
      const head = ctx.method === 'HEAD';
      const manifest = head
        ? await registry.manifests.describe(name, reference)
        : await registry.manifests.get(name, reference);
      // containerd resolves a tag with HEAD, then fetches by digest: both count as pulls.
      if (reference.tag !== undefined) registry.pulls.record(name, reference.tag);
      const etag = `"${manifest.digest}"`;
      ctx.set({ 'Docker-Content-Digest': manifest.digest, ETag: etag, 'Content-Type': manifest.mediaType });
      if (matchesEtag(ctx.get('If-None-Match'), etag)) {
        respondEmpty(ctx, 304);
        return;
      }
      ctx.status = 200;
      if ('body' in manifest) {
        ctx.body = manifest.body;
      } else {
        ctx.set('Content-Length', String(manifest.size));
      }
    },

    async put(ctx: BerthContext): Promise<void> {
      const name = nameParam(ctx);
      const reference = referenceParam(ctx, 1);
      const tags = tagParams(ctx);
      const body = await readLimitedBody(ctx.req, maxSize);
      ctx.state.bytesIn = body.length;
      const pushed = await registry.manifests.put(name, reference, body, {
        contentType: ctx.get('Content-Type') || undefined,
        tags,
        actor: actorOf(ctx),
      });
      respondEmpty(ctx, 201);
      ctx.set({ Location: `/v2/${name}/manifests/${pushed.digest}`, 'Docker-Content-Digest': pushed.digest });
      if (pushed.subject) ctx.set('OCI-Subject', pushed.subject);
      if (tags.length > 0) ctx.set('OCI-Tag', tags);
    },

    async delete(ctx: BerthContext): Promise<void> {
      await registry.manifests.delete(nameParam(ctx), referenceParam(ctx, 1), actorOf(ctx));
      respondEmpty(ctx, 202);
    },
  };
}

function matchesEtag(header: string, etag: string): boolean {
  if (!header) return false;
  return header
    .split(',')
    .map((candidate) => candidate.trim().replace(/^W\//, ''))
    .some((candidate) => candidate === etag || candidate === '*');
}
