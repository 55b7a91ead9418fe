/**
 * Headers on every response, errors included: `Docker-Distribution-API-Version` on the /v2
 * API (clients use it to recognise a registry) and the operator's `http.headers`. They are
 * set once the response is decided, so error rendering cannot drop them.
 */
import type { Next } from 'koa';
import type { BerthContext } from './context.js';

/** Middleware: adds the fixed headers to whatever the rest of the stack answered. */
export function fixedHeaders(configured: Record<string, string[]>) {
  const extra = Object.entries(configured);
  return async (ctx: BerthContext, next: Next): Promise<void> => {
    try {
      await next();
    } finally {
      if (!ctx.headerSent) {
        if (ctx.path.startsWith('/v2')) ctx.set('Docker-Distribution-API-Version', 'registry/2.0');
        for (const [name, values] of extra) ctx.set(name, values);
      }
    }
  };
}
