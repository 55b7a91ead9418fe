/**
 * The blob upload endpoints: `POST /v2/<name>/blobs/uploads/` (session, single-request
 * monolithic push, cross-repository mount) and `GET`/`PATCH`/`PUT`/`DELETE` on the session
 * location.
 */
import { type BerthContext, respondEmpty } from '../http/context.js';
import { hasRequestBody, requestBody } from '../http/request-body.js';
import { type Digest, parseDigest } from '../registry/digest.js';
import { isRegistryError, RegistryError } from '../registry/errors.js';
import { parseName, type RepositoryName } from '../registry/names.js';
import type { Registry } from '../registry/registry.js';
import { type UploadStatus, uploadRange } from '../registry/uploads.js';
import { capture, nameParam, queryParam } from './params.js';
import { chunkRange } from './ranges.js';

/** Handlers of the upload endpoints. */
export function uploadRoutes(registry: Registry) {
  return {
    async start(ctx: BerthContext): Promise<void> {
      const name = nameParam(ctx);
      const mount = queryParam(ctx, 'mount');
      const from = queryParam(ctx, 'from');
      // Mounting from a repository the caller may not pull would leak its blobs; the spec lets
      // the registry answer with a plain upload session instead, as it does for a missing blob.
      if (mount !== undefined && from !== undefined) {
        const digest = parseDigest(mount);
        const source = parseName(from);
        const mayPull = ctx.state.caller?.may(source, 'pull') ?? false;
        if (mayPull && (await registry.blobs.mount(name, digest, source))) return created(ctx, name, digest);
      }
      const digestText = queryParam(ctx, 'digest');
      if (digestText !== undefined) {
        const digest = parseDigest(digestText);
        const blob = await registry.uploads.putMonolithic(name, digest, requestBody(ctx));
        ctx.state.bytesIn = blob.received;
        return created(ctx, name, digest);
      }
      const session = await registry.uploads.start(name);
      progress(ctx, name, session, 202);
    },

    async status(ctx: BerthContext): Promise<void> {
      const name = nameParam(ctx);
      progress(ctx, name, await registry.uploads.status(name, capture(ctx, 1)), 204);
    },

    async patch(ctx: BerthContext): Promise<void> {
      const name = nameParam(ctx);
      const id = capture(ctx, 1);
      const range = chunkRange(ctx.get('Content-Range') || undefined);
      checkDeclaredLength(ctx, range);
      const session = await withSessionHeaders(
        name,
        id,
        registry.uploads.append(name, id, requestBody(ctx), range),
      );
      ctx.state.bytesIn = session.received;
      progress(ctx, name, session, 202);
    },

    async finish(ctx: BerthContext): Promise<void> {
      const name = nameParam(ctx);
      const id = capture(ctx, 1);
      const digestText = queryParam(ctx, 'digest');
      if (!digestText) {
        throw new RegistryError(
          'DIGEST_INVALID',
          'the digest query parameter is required to complete an upload',
        );
      }
      const digest = parseDigest(digestText);
      const range = chunkRange(ctx.get('Content-Range') || undefined);
      checkDeclaredLength(ctx, range);
      const body = hasRequestBody(ctx.req) ? requestBody(ctx) : undefined;
      const blob = await withSessionHeaders(
        name,
        id,
        registry.uploads.complete(name, id, digest, body, range),
      );
      ctx.state.bytesIn = blob.received;
      created(ctx, name, digest);
    },

    async cancel(ctx: BerthContext): Promise<void> {
      await registry.uploads.cancel(nameParam(ctx), capture(ctx, 1));
      respondEmpty(ctx, 204);
    },
  };
}

function created(ctx: BerthContext, name: RepositoryName, digest: Digest): void {
  respondEmpty(ctx, 201);
  ctx.set({ Location: `/v2/${name}/blobs/${digest}`, 'Docker-Content-Digest': digest });
}

function progress(ctx: BerthContext, name: RepositoryName, session: UploadStatus, status: 202 | 204): void {
  respondEmpty(ctx, status);
  ctx.set(sessionHeaders(name, session.id, session.size));
}

function sessionHeaders(name: RepositoryName, id: string, size?: number): Record<string, string> {
  const headers: Record<string, string> = {
    Location: `/v2/${name}/blobs/uploads/${id}`,
    'Docker-Upload-UUID': id,
  };
  if (size !== undefined) headers.Range = uploadRange(size);
  return headers;
}

/** Adds the session's Location to errors that tell the client where the upload stands (416). */
async function withSessionHeaders<T>(name: RepositoryName, id: string, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (isRegistryError(err) && err.headers.Range !== undefined) {
      throw new RegistryError(err.code, err.message, {
        status: err.status,
        detail: err.detail,
        headers: { ...sessionHeaders(name, id), ...err.headers },
      });
    }
    throw err;
  }
}

function checkDeclaredLength(ctx: BerthContext, range: { start: number; end: number } | undefined): void {
  const declared = ctx.get('Content-Length');
  if (!range || declared === '') return;
  if (Number(declared) !== range.end - range.start + 1) {
    throw new RegistryError('BLOB_UPLOAD_INVALID', 'Content-Length does not match Content-Range', {
      detail: { contentLength: declared, contentRange: `${range.start}-${range.end}` },
    });
  }
}
