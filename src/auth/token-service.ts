/**
 * The built-in token server's logic: who is asking (Basic credentials, a password grant, a
 * refresh token, or nobody), what they asked for (scopes), and a token granting the
 * intersection of that and what the policy allows. Never more than asked, never more than
 * allowed; asking for something not allowed is not an error, the token just lacks it.
 */
import { RegistryError } from '../registry/errors.js';
import { isValidName } from '../registry/names.js';
import { challengeHeader, type ObserveAuth } from './authorizer.js';
import type { SigningKey } from './keys.js';
import { basicCredentials, type Credentials, type Login } from './login.js';
import { ANONYMOUS, type Identity, type Permissions, subjectOf } from './permissions.js';
import type { AuthSnapshot, PolicySource } from './policy-source.js';
import { type AccessEntry, CATALOG, formatScope, parseActions, parseScope } from './scopes.js';
import {
  type IssuedToken,
  issueAccessToken,
  issueRefreshToken,
  TokenError,
  type TokenVerifier,
  verifyRefreshToken,
} from './tokens.js';

/** Settings of the token server. */
export interface TokenServiceOptions {
  source: PolicySource;
  login: Login;
  observe: ObserveAuth;
  key: SigningKey;
  verifier: TokenVerifier;
  /** Access token lifetime, seconds. */
  lifetime: number;
  /** Refresh token lifetime, seconds. */
  refreshLifetime: number;
}

/** A token request after HTTP parsing. */
export interface TokenRequest {
  remote: string;
  service: string | undefined;
  scopes: string[];
  /** A refresh token is wanted (`offline_token=true` or `access_type=offline`). */
  offline: boolean;
  /** How the caller proves who it is. */
  proof:
    | { kind: 'header'; authorization: string | undefined }
    | { kind: 'password'; username: string | undefined; password: string | undefined }
    | { kind: 'refresh'; token: string | undefined };
}

/** What the token server answers. */
export interface TokenGrant {
  access: IssuedToken;
  /** Granted scopes, space-separated (the OAuth2 `scope` field). */
  scope: string;
  refreshToken: string | undefined;
}

/** The token server's operations. */
export interface TokenService {
  grant(request: TokenRequest): Promise<TokenGrant>;
}

/** Creates the token service. */
export function createTokenService(options: TokenServiceOptions): TokenService {
  const { source, login, key, verifier } = options;
  const challenge = { 'WWW-Authenticate': challengeHeader('Basic', { realm: verifier.service }) };

  const identify = async (
    request: TokenRequest,
    accounts: AuthSnapshot['accounts'],
  ): Promise<{ identity: Identity; refreshToken?: string }> => {
    const proof = request.proof;
    const attempt = (credentials: Credentials) =>
      login(accounts, { ...credentials, remote: request.remote }, challenge);
    if (proof.kind === 'header') {
      const credentials = basicCredentials(proof.authorization);
      return { identity: credentials ? await attempt(credentials) : ANONYMOUS };
    }
    if (proof.kind === 'password') {
      if (!proof.username || proof.password === undefined)
        throw new RegistryError('UNAUTHORIZED', 'the password grant needs username and password', {
          status: 400,
        });
      return { identity: await attempt({ username: proof.username, password: proof.password }) };
    }
    if (!proof.token)
      throw new RegistryError('UNAUTHORIZED', 'the refresh_token grant needs refresh_token', { status: 400 });
    let claims: { subject: string; stamp: string };
    try {
      claims = verifyRefreshToken(proof.token, verifier);
    } catch (err) {
      if (err instanceof TokenError)
        throw new RegistryError('UNAUTHORIZED', `refresh token refused: ${err.message}`);
      throw err;
    }
    const identity = accounts.lookup(claims.subject);
    // A removed account, or one whose password or secret changed since, must log in again.
    if (!identity || identity.kind === 'anonymous' || accounts.stamp(identity) !== claims.stamp)
      throw new RegistryError('UNAUTHORIZED', 'refresh token refused: the account changed; log in again');
    return { identity, refreshToken: proof.token };
  };

  return {
    async grant(request) {
      if (request.service !== undefined && request.service !== verifier.service)
        throw new RegistryError('UNSUPPORTED', `unknown service "${request.service.slice(0, 100)}"`, {
          status: 400,
          detail: { service: verifier.service },
        });
      // One snapshot for the whole request: a reload half-way must not mix two policies.
      const { accounts, permissions } = source.current();
      const { identity, refreshToken } = await identify(request, accounts);
      const access = grantedAccess(request.scopes, identity, permissions);
      const subject = subjectOf(identity);
      const token = issueAccessToken(key, verifier, subject, access, options.lifetime);
      options.observe('token_issued');
      const wantsRefresh = request.offline && identity.kind !== 'anonymous';
      return {
        access: token,
        scope: access.map(formatScope).join(' '),
        refreshToken:
          refreshToken ??
          (wantsRefresh
            ? issueRefreshToken(key, verifier, subject, accounts.stamp(identity), options.refreshLifetime)
            : undefined),
      };
    },
  };
}

/** The intersection of requested scopes and what `identity` may do, merged per resource. */
export function grantedAccess(scopes: string[], identity: Identity, permissions: Permissions): AccessEntry[] {
  const granted = new Map<string, AccessEntry>();
  for (const requested of scopes.flatMap((scope) => scope.split(' ')).map(parseScope)) {
    if (!requested) continue;
    let actions: string[] = [];
    if (requested.type === 'repository' && isValidName(requested.name)) {
      const allowed = permissions.actions(identity, requested.name);
      actions = parseActions(requested.actions, false).filter((action) => allowed.includes(action));
    } else if (
      requested.type === CATALOG.type &&
      requested.name === CATALOG.name &&
      permissions.catalog(identity)
    ) {
      actions = ['*'];
    }
    if (actions.length === 0) continue;
    const id = `${requested.type}:${requested.name}`;
    const existing = granted.get(id);
    const merged = [...new Set([...(existing?.actions ?? []), ...actions])];
    granted.set(id, { type: requested.type, name: requested.name, actions: merged });
  }
  return [...granted.values()];
}
