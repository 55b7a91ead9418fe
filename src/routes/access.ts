/**
 * Access checks as route middleware: each route states what it needs (`repository('pull')`),
 * the authorizer decides, and the caller it returns is left on `ctx.state.caller` for handlers
 * that need finer answers (a mount's source, the catalog).
 */
import type { Next } from 'koa';
import type { Authorizer, AuthRequest, Need } from '../auth/authorizer.js';
import type { Action } from '../auth/scopes.js';
import type { BerthContext } from '../http/context.js';
import type { Actor } from '../registry/tag-history.js';
import { nameParam } from './params.js';

type Middleware = (ctx: BerthContext, next: Next) => Promise<void>;

/** Route guards for one authorizer. */
export function accessGuards(authorizer: Authorizer) {
  const guard =
    (need: (ctx: BerthContext) => Need): Middleware =>
    async (ctx, next) => {
      ctx.state.caller = await authorizer.authorize(authRequest(ctx), need(ctx));
      await next();
    };
  return {
    /** `GET /v2/`: a recognised caller. */
    login: guard(() => ({ kind: 'login' })),
    /** The catalog: answered with what the caller may see. */
    catalog: guard(() => ({ kind: 'catalog' })),
    /** `actions` on the repository named in the path. */
    repository: (...actions: Action[]) =>
      guard((ctx) => ({ kind: 'repository', name: nameParam(ctx), actions })),
  };
}

/** The parts of a request auth looks at. */
export function authRequest(ctx: BerthContext): AuthRequest {
  return {
    authorization: ctx.get('Authorization') || undefined,
    remote: ctx.ip,
    // Koa 3's ctx.origin is null for plain HTTP; build it from what the client sent.
    origin: `${ctx.protocol}://${ctx.host}`,
  };
}

/** Who makes a request and from where, for tag history: the caller's name and the client address. */
export function actorOf(ctx: BerthContext): Actor {
  return { name: ctx.state.caller?.subject || 'anonymous', address: ctx.ip };
}
