/**
 * Berth's own endpoints beside the spec's API: `GET /v2/<name>/_berth/tags/<tag>/history`,
 * `POST /v2/<name>/_berth/tags/<tag>/rollback` and `DELETE /v2/<name>/_berth/repository`.
 * Repository names cannot contain `_berth` (no name component starts with `_`), so these
 * paths never shadow a repository's own.
 */
import { type BerthContext, respondEmpty } from '../http/context.js';
import { readLimitedBody } from '../http/read-body.js';
import { type Digest, parseDigest } from '../registry/digest.js';
import { RegistryError } from '../registry/errors.js';
import { parseTag, type Tag } from '../registry/names.js';
import type { Registry } from '../registry/registry.js';
import type { RollbackTarget } from '../registry/tag-rollback.js';
import { actorOf } from './access.js';
import { MAX_PAGE, withNextLink } from './listings.js';
import { capture, nameParam, pageParams } from './params.js';

/** A rollback body is one small JSON object. */
const MAX_ROLLBACK_BODY = 4096;

/** Handlers of Berth's own endpoints. */
export function berthApiRoutes(registry: Registry) {
  return {
    async history(ctx: BerthContext): Promise<void> {
      const name = nameParam(ctx);
      const tag = tagParam(ctx);
      const request = pageParams(ctx, MAX_PAGE);
      const page = await registry.history.page(name, tag, request);
      // A tag that was never moved since history began (pushed before) has an empty history.
      if (page.items.length === 0 && request.last === undefined) await registry.tags.resolve(name, tag);
      const path = `/v2/${name}/_berth/tags/${tag}/history`;
      const entries = withNextLink(ctx, path, request, page, (entry) => entry.id);
      ctx.body = { name, tag, history: entries };
    },

    async rollback(ctx: BerthContext): Promise<void> {
      const name = nameParam(ctx);
      const tag = tagParam(ctx);
      const target = rollbackTarget(await readLimitedBody(ctx.req, MAX_ROLLBACK_BODY));
      const digest = await registry.rollbackTag(name, tag, target, actorOf(ctx));
      ctx.body = { name, tag, digest };
    },

    async deleteRepository(ctx: BerthContext): Promise<void> {
      await registry.deleteRepository(nameParam(ctx));
      respondEmpty(ctx, 202);
    },
  };
}

function tagParam(ctx: BerthContext): Tag {
  return parseTag(capture(ctx, 1));
}

function rollbackTarget(body: Buffer): RollbackTarget {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw badRollback('the body is not JSON');
  }
  const { digest, steps } = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<
    string,
    unknown
  >;
  if ((digest === undefined) === (steps === undefined)) throw badRollback('give either "digest" or "steps"');
  if (digest !== undefined) return { digest: parseDigest(String(digest)) as Digest };
  if (typeof steps === 'number' && Number.isInteger(steps) && steps >= 1) return { steps };
  throw badRollback('"steps" must be a whole number >= 1');
}

function badRollback(reason: string): RegistryError {
  return new RegistryError('UNSUPPORTED', `invalid rollback request: ${reason}`, {
    status: 400,
    detail: { expected: '{"digest": "sha256:..."} or {"steps": N}' },
  });
}
