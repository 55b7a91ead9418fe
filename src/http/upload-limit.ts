/**
 * The cap on concurrent uploads per client address (`http.maxuploadsperclient`): requests
 * sending a body (blob chunks, manifests) at once from one address. Each holds a socket and
 * often a file, so one client cannot take all of the process's file descriptors. The address
 * is `ctx.ip`, the proxy's `X-Forwarded-For` hop with `http.trustproxy`.
 */
import type { Next } from 'koa';
import { RegistryError } from '../registry/errors.js';
import type { BerthContext } from './context.js';
import { hasRequestBody } from './request-body.js';

/** Seconds a refused client is asked to wait: a slot frees when any of its uploads ends. */
const RETRY_AFTER_SECONDS = 5;

/** Middleware: refuses an upload with 429 while its address has `perClient` under way (0: no cap). */
export function uploadLimit(perClient: number) {
  const active = new Map<string, number>();
  return async (ctx: BerthContext, next: Next): Promise<void> => {
    if (perClient === 0 || !hasRequestBody(ctx.req)) return next();
    const client = ctx.ip;
    const running = active.get(client) ?? 0;
    if (running >= perClient) {
      throw new RegistryError('TOOMANYREQUESTS', `too many uploads at once from ${client}`, {
        headers: { 'Retry-After': String(RETRY_AFTER_SECONDS) },
        detail: { limit: perClient },
      });
    }
    active.set(client, running + 1);
    try {
      await next();
    } finally {
      const left = (active.get(client) ?? 1) - 1;
      if (left > 0) active.set(client, left);
      else active.delete(client);
    }
  };
}
