/**
 * The HTTP API in one table: every path, method and handler. Paths are matched on the raw
 * (undecoded) URL; repository names may contain slashes, so each pattern anchors on the
 * fixed suffix after the name. Each route is named by its template, which metrics use.
 */
import Router from '@koa/router';
import type { Authorizer } from '../auth/authorizer.js';
import type { TokenService } from '../auth/token-service.js';
import type { BerthState } from '../http/context.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Registry } from '../registry/registry.js';
import { accessGuards } from './access.js';
import { berthApiRoutes } from './berth-api.js';
import { blobRoutes } from './blobs.js';
import { healthRoutes } from './health.js';
import { listingRoutes } from './listings.js';
import { manifestRoutes } from './manifests.js';
import { tokenRoutes } from './token.js';
import { uploadRoutes } from './uploads.js';

/** Options of createRouter. */
export interface RouterOptions {
  registry: Registry;
  metrics: Metrics;
  logger: Logger;
  /** `validation.manifests.maxsize`. */
  manifestMaxSize: number;
  /** `metrics.path`, or undefined when metrics are disabled. */
  metricsPath: string | undefined;
  /** Decides every `/v2/` request. */
  authorizer: Authorizer;
  /** The built-in token server, served at `/auth/token` when present. */
  tokenService: TokenService | undefined;
}

const NAME = '(.+)';
const SEGMENT = '([^/]+)';
const path = (pattern: string) => new RegExp(`^${pattern}$`);

/** Builds the router of the whole HTTP surface. */
export function createRouter(options: RouterOptions): Router<BerthState> {
  const { registry } = options;
  const router = new Router<BerthState>();
  const berth = berthApiRoutes(registry);
  const blobs = blobRoutes(registry);
  const uploads = uploadRoutes(registry);
  const manifests = manifestRoutes(registry, { maxSize: options.manifestMaxSize });
  const listings = listingRoutes(registry);
  const health = healthRoutes(registry, options.metrics, options.logger);
  const can = accessGuards(options.authorizer);
  const pull = can.repository('pull');
  const push = can.repository('push');
  const remove = can.repository('delete');

  router.get('/v2/', path('/v2/?'), can.login, (ctx) => {
    ctx.body = {};
  });
  // Berth's own endpoints come first: the first route that matches answers, and the spec's
  // patterns would also match some of these paths (a tag named `manifests` or `referrers`),
  // reading them as a name with `_berth` in it. No spec path can contain `/_berth/`.
  const berthTag = (action: string) => path(`/v2/${NAME}/_berth/tags/${SEGMENT}/${action}`);
  router.get('/v2/<name>/_berth/tags/<tag>/history', berthTag('history'), pull, berth.history);
  router.post('/v2/<name>/_berth/tags/<tag>/rollback', berthTag('rollback'), push, berth.rollback);
  const repository = path(`/v2/${NAME}/_berth/repository`);
  router.delete('/v2/<name>/_berth/repository', repository, remove, berth.deleteRepository);
  router.get('/v2/_catalog', path('/v2/_catalog'), can.catalog, listings.catalog);
  router.get('/v2/<name>/tags/list', path(`/v2/${NAME}/tags/list`), pull, listings.tags);
  router.get(
    '/v2/<name>/referrers/<digest>',
    path(`/v2/${NAME}/referrers/${SEGMENT}`),
    pull,
    listings.referrers,
  );

  const manifest = '/v2/<name>/manifests/<reference>';
  const manifestPath = path(`/v2/${NAME}/manifests/${SEGMENT}`);
  router.get(manifest, manifestPath, pull, manifests.get);
  router.put(manifest, manifestPath, push, manifests.put);
  router.delete(manifest, manifestPath, remove, manifests.delete);

  router.post('/v2/<name>/blobs/uploads/', path(`/v2/${NAME}/blobs/uploads/?`), push, uploads.start);
  const session = '/v2/<name>/blobs/uploads/<uuid>';
  const sessionPath = path(`/v2/${NAME}/blobs/uploads/${SEGMENT}`);
  router.get(session, sessionPath, push, uploads.status);
  router.patch(session, sessionPath, push, uploads.patch);
  router.put(session, sessionPath, push, uploads.finish);
  router.delete(session, sessionPath, push, uploads.cancel);

  const blob = '/v2/<name>/blobs/<digest>';
  const blobPath = path(`/v2/${NAME}/blobs/${SEGMENT}`);
  router.get(blob, blobPath, pull, blobs.get);
  router.delete(blob, blobPath, remove, blobs.delete);

  if (options.tokenService) {
    const token = tokenRoutes(options.tokenService);
    router.get('/auth/token', path('/auth/token'), token.get);
    router.post('/auth/token', path('/auth/token'), token.form, token.post);
  }

  router.get('/healthz', path('/healthz'), health.live);
  router.get('/readyz', path('/readyz'), health.ready);
  if (options.metricsPath)
    router.get(options.metricsPath, path(escapeRegExp(options.metricsPath)), health.metrics);
  return router;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
