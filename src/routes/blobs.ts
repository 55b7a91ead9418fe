/** `GET`/`HEAD`/`DELETE /v2/<name>/blobs/<digest>`. */
import { type BerthContext, respondEmpty } from '../http/context.js';
import { RegistryError } from '../registry/errors.js';
import type { Registry } from '../registry/registry.js';
import { digestParam, nameParam } from './params.js';
import { requestedRange } from './ranges.js';

/** Handlers of the blob endpoints. */
export function blobRoutes(registry: Registry) {
  return {
    async get(ctx: BerthContext): Promise<void> {
      const name = nameParam(ctx);
      const digest = digestParam(ctx, 1);
      const { size } = await registry.blobs.stat(name, digest);
      ctx.set({
        'Docker-Content-Digest': digest,
        ETag: `"${digest}"`,
        'Accept-Ranges': 'bytes',
        'Cache-Control': 'max-age=31536000',
        'Content-Type': 'application/octet-stream',
      });
      if (ctx.method === 'HEAD') {
        ctx.status = 200;
        ctx.set('Content-Length', String(size));
        return;
      }
      // With storage.s3.redirect the bytes come from the store itself, Range and all.
      const location = await registry.blobs.downloadURL(digest);
      if (location) {
        respondEmpty(ctx, 307);
        ctx.set('Location', location);
        return;
      }
      const ifRange = ctx.get('If-Range');
      const range = ifRange && ifRange !== `"${digest}"` ? undefined : requestedRange(ctx.get('Range'), size);
      if (range === 'unsatisfiable') {
        throw new RegistryError('SIZE_INVALID', 'requested range is not satisfiable', {
          status: 416,
          headers: { 'Content-Range': `bytes */${size}` },
          detail: { size, range: ctx.get('Range').slice(0, 100) },
        });
      }
      const start = range?.start ?? 0;
      const length = range ? range.end - range.start + 1 : size;
      const stream = await registry.blobs.open(name, digest, start, length);
      if (range) {
        ctx.status = 206;
        ctx.set('Content-Range', `bytes ${range.start}-${range.end}/${size}`);
      } else {
        ctx.status = 200;
      }
      ctx.body = stream;
      ctx.length = length;
      ctx.type = 'application/octet-stream';
    },

    async delete(ctx: BerthContext): Promise<void> {
      await registry.blobs.delete(nameParam(ctx), digestParam(ctx, 1));
      respondEmpty(ctx, 202);
    },
  };
}
