/**
 * `auth.mode: token`: requests carry `Authorization: Bearer <JWT>` and may do exactly what the
 * token's `access` claim grants. A request without a token, with a bad one or with too little
 * access gets 401 and a challenge naming the token realm, the service and the scope to ask
 * for, as the Docker token protocol specifies.
 */
import { RegistryError } from '../registry/errors.js';
import { type Authorizer, type Caller, challengeHeader, type Need, type ObserveAuth } from './authorizer.js';
import type { PolicySource } from './policy-source.js';
import { CATALOG, formatScope } from './scopes.js';
import { TokenError, type TokenVerifier, type VerifiedAccess, verifyAccessToken } from './tokens.js';

/** Options of tokenAuthorizer. */
export interface TokenModeOptions {
  verifier: TokenVerifier;
  /** The token realm for a request that arrived at `origin`. */
  realm(origin: string): string;
  /** The policy, when Berth has one: lets a token without catalog access see a filtered catalog. */
  source: PolicySource | undefined;
  observe: ObserveAuth;
}

const CACHE_MAX = 10_000;

/** The token-mode authorizer. */
export function tokenAuthorizer({ verifier, realm, source, observe }: TokenModeOptions): Authorizer {
  // Verifying a signature costs more than serving a cached manifest; clients reuse tokens.
  const verified = new Map<string, VerifiedAccess>();
  const verify = (token: string): VerifiedAccess => {
    const cached = verified.get(token);
    if (cached && cached.expiresAt > Date.now()) return cached;
    const result = verifyAccessToken(token, verifier);
    if (verified.size >= CACHE_MAX) verified.clear();
    verified.set(token, result);
    return result;
  };

  return {
    async authorize(request, need) {
      const refuse = (message: string, scope?: string, error?: string) =>
        new RegistryError('UNAUTHORIZED', message, {
          headers: {
            'WWW-Authenticate': challengeHeader('Bearer', {
              realm: realm(request.origin),
              service: verifier.service,
              scope,
              error,
            }),
          },
        });
      const wanted = scopeOf(need);
      const bearer = /^Bearer\s+(\S+)\s*$/i.exec(request.authorization ?? '')?.[1];
      if (!bearer) throw refuse('authentication required', wanted);
      let token: VerifiedAccess;
      try {
        token = verify(bearer);
      } catch (err) {
        if (!(err instanceof TokenError)) throw err;
        observe('token_invalid');
        throw refuse(err.message, wanted, 'invalid_token');
      }
      const caller = callerOf(token, source);
      if (need.kind === 'repository' && !need.actions.every((action) => caller.may(need.name, action))) {
        observe('access_denied');
        throw refuse(
          'insufficient scope: the token does not grant this action',
          wanted,
          'insufficient_scope',
        );
      }
      if (need.kind === 'catalog' && !source && !grants(token, CATALOG.type, CATALOG.name, '*'))
        throw refuse(
          'insufficient scope: the catalog needs registry:catalog:*',
          wanted,
          'insufficient_scope',
        );
      return caller;
    },
  };
}

function scopeOf(need: Need): string | undefined {
  if (need.kind === 'catalog') return formatScope(CATALOG);
  if (need.kind !== 'repository') return undefined;
  // A client that must push will also pull (to check what exists): ask for both at once, as
  // distribution does, so one token serves the whole push.
  const actions = need.actions.includes('push')
    ? ['pull', ...need.actions.filter((a) => a !== 'pull')]
    : need.actions;
  return formatScope({ type: 'repository', name: need.name, actions });
}

function grants(token: VerifiedAccess, type: string, name: string, action: string): boolean {
  return token.access.some(
    (entry) =>
      entry.type === type &&
      entry.name === name &&
      (entry.actions.includes(action) || entry.actions.includes('*')),
  );
}

function callerOf(token: VerifiedAccess, source: PolicySource | undefined): Caller {
  const may = (repository: string, action: string) => grants(token, 'repository', repository, action);
  // Only the catalog asks what is listed: work it out then, not on every pull.
  let listing: ((repository: string) => boolean) | undefined;
  return {
    subject: token.subject,
    may,
    lists: (repository) => {
      listing ??= listingFor(token, source, may);
      return listing(repository);
    },
  };
}

/**
 * Which repositories the token's caller sees in the catalog: all of them with catalog access,
 * otherwise what the subject may pull under the current policy (or, for an account that is
 * gone, what the token itself names).
 */
function listingFor(
  token: VerifiedAccess,
  source: PolicySource | undefined,
  may: (repository: string, action: string) => boolean,
): (repository: string) => boolean {
  if (grants(token, CATALOG.type, CATALOG.name, '*')) return () => true;
  const snapshot = source?.current();
  const identity = snapshot?.accounts.lookup(token.subject);
  if (!snapshot || !identity) return (repository) => may(repository, 'pull');
  return (repository) => snapshot.permissions.actions(identity, repository).includes('pull');
}
