/**
 * The built-in token server's endpoint, `/auth/token`: `GET` as the Docker token protocol
 * specifies (Basic credentials or none, `service`, repeated `scope`, `offline_token`), and
 * `POST` with the OAuth2 `password` and `refresh_token` grants that `docker login` and
 * containerd use.
 */
import { koaBody } from 'koa-body';
import type { TokenGrant, TokenRequest, TokenService } from '../auth/token-service.js';
import type { BerthContext } from '../http/context.js';
import { RegistryError } from '../registry/errors.js';
import { queryParam } from './params.js';

/** Handlers of `/auth/token`. */
export function tokenRoutes(service: TokenService) {
  // Only this endpoint takes a form body; uploads stream and never pass through a body parser.
  const form = koaBody({ urlencoded: true, json: false, text: false, multipart: false, formLimit: '16kb' });
  return {
    async get(ctx: BerthContext): Promise<void> {
      const scopes = ctx.query.scope;
      const grant = await service.grant({
        remote: ctx.ip,
        service: queryParam(ctx, 'service'),
        scopes: scopes === undefined ? [] : Array.isArray(scopes) ? scopes : [scopes],
        offline: queryParam(ctx, 'offline_token') === 'true',
        proof: { kind: 'header', authorization: ctx.get('Authorization') || undefined },
      });
      respond(ctx, grant);
    },

    form,

    async post(ctx: BerthContext): Promise<void> {
      const body = (ctx.request as { body?: Record<string, unknown> }).body ?? {};
      const field = (key: string) => (typeof body[key] === 'string' ? (body[key] as string) : undefined);
      const grantType = field('grant_type');
      let proof: TokenRequest['proof'];
      if (grantType === 'password')
        proof = { kind: 'password', username: field('username'), password: field('password') };
      else if (grantType === 'refresh_token') proof = { kind: 'refresh', token: field('refresh_token') };
      else
        throw new RegistryError('UNSUPPORTED', 'grant_type must be password or refresh_token', {
          status: 400,
        });
      const grant = await service.grant({
        remote: ctx.ip,
        service: field('service'),
        scopes: (field('scope') ?? '').split(' ').filter((scope) => scope !== ''),
        offline: field('access_type') === 'offline',
        proof,
      });
      respond(ctx, grant);
    },
  };
}

function respond(ctx: BerthContext, grant: TokenGrant): void {
  ctx.set('Cache-Control', 'no-store');
  ctx.body = {
    token: grant.access.token,
    access_token: grant.access.token,
    expires_in: grant.access.expiresIn,
    issued_at: grant.access.issuedAt.toISOString(),
    scope: grant.scope,
    ...(grant.refreshToken ? { refresh_token: grant.refreshToken } : {}),
  };
}
