/**
 * The Koa application: middleware in the order errors -> request log -> metrics -> body
 * timeout and upload cap -> router, each factory handed only its own part of the configuration.
 */
import Koa, { type Next } from 'koa';
import type { Auth } from './auth/setup.js';
import type { BerthConfig } from './config/schema.js';
import { accessLog } from './http/access-log.js';
import { bodyTimeout } from './http/body-timeout.js';
import type { BerthContext, BerthState } from './http/context.js';
import { errorHandler } from './http/errors.js';
import { fixedHeaders } from './http/fixed-headers.js';
import { requestContext } from './http/request-id.js';
import { requestMetrics } from './http/request-metrics.js';
import { uploadLimit } from './http/upload-limit.js';
import type { Logger } from './log/logger.js';
import type { Metrics } from './metrics/metrics.js';
import { RegistryError } from './registry/errors.js';
import type { Registry } from './registry/registry.js';
import { createRouter } from './routes/index.js';

/** What createApp needs. */
export interface AppOptions {
  registry: Registry;
  logger: Logger;
  metrics: Metrics;
  auth: Pick<Auth, 'authorizer' | 'tokenService'>;
  config: Pick<BerthConfig, 'http' | 'log' | 'validation' | 'metrics'>;
}

/** Creates the Koa application serving the registry. */
export function createApp({ registry, logger, metrics, auth, config }: AppOptions): Koa<BerthState> {
  const app = new Koa<BerthState>();
  app.silent = true;
  // Behind a reverse proxy the client's address (login limits, logs) and the scheme and host
  // it used (the token realm) come from X-Forwarded-*. Only the last hop is taken: it is the
  // one the trusted proxy added; anything before it the client could have written.
  app.proxy = config.http.trustproxy;
  app.maxIpsCount = 1;
  app.on('error', (err: unknown) => {
    // Errors Koa sees after a response started (a client gone mid-download); not actionable.
    logger.debug('response stream error', { error: err });
  });

  const router = createRouter({
    registry,
    metrics,
    logger,
    manifestMaxSize: config.validation.manifests.maxsize,
    metricsPath: config.metrics.enabled ? config.metrics.path : undefined,
    authorizer: auth.authorizer,
    tokenService: auth.tokenService,
  });

  app.use(requestContext());
  app.use(fixedHeaders(config.http.headers));
  app.use(errorHandler(logger));
  app.use(accessLog({ logger, disabled: config.log.accesslog.disabled }));
  app.use(requestMetrics(metrics));
  app.use(bodyTimeout(config.http.bodytimeout));
  app.use(uploadLimit(config.http.maxuploadsperclient));
  app.use(unknownEndpoint);
  app.use(router.routes());
  app.use(router.allowedMethods());
  return app;
}

/** Turns "no route answered" (404) and the router's 405/501 into OCI errors, keeping `Allow`. */
async function unknownEndpoint(ctx: BerthContext, next: Next): Promise<void> {
  await next();
  if (ctx.body != null) return;
  if (ctx.status === 404) {
    throw new RegistryError('UNSUPPORTED', `no endpoint at ${ctx.path.slice(0, 200)}`, { status: 404 });
  }
  if (ctx.status === 405 || ctx.status === 501) {
    const allow = ctx.response.get('Allow');
    throw new RegistryError('UNSUPPORTED', `method ${ctx.method} is not supported on this endpoint`, {
      status: 405,
      headers: allow ? { Allow: allow } : {},
    });
  }
}
