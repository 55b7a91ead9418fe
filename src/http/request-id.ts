/** Gives every request an id (echoed in `X-Request-Id`) and a start time. */
import { randomUUID } from 'node:crypto';
import type { Next } from 'koa';
import type { BerthContext } from './context.js';

const CLIENT_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** Middleware: sets ctx.state.requestId, startedAt and bytesIn. */
export function requestContext() {
  return async (ctx: BerthContext, next: Next): Promise<void> => {
    const offered = ctx.get('X-Request-Id');
    ctx.state.requestId = CLIENT_ID.test(offered) ? offered : randomUUID();
    ctx.state.startedAt = performance.now();
    ctx.state.bytesIn = 0;
    ctx.set('X-Request-Id', ctx.state.requestId);
    await next();
  };
}
