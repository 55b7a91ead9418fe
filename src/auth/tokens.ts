/**
 * Registry tokens as JWTs: issuing access tokens (`access` claim of the Docker token protocol)
 * and refresh tokens, and verifying them with everything pinned: one algorithm (so `none` and
 * HS256-signed-with-the-public-key are refused), the issuer, the audience (the service), a
 * required `exp`, and `nbf`/`exp` with a small clock skew.
 */
import { randomUUID } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { SigningKey, TokenAlgorithm, VerifyKey } from './keys.js';
import type { AccessEntry } from './scopes.js';

/** Leeway for clocks of the token server and the registry disagreeing. */
export const CLOCK_SKEW_SECONDS = 30;

/** Claim that marks a refresh token and carries the account's credential stamp. */
const REFRESH_CLAIM = 'berth_refresh';

/** Who issues and who accepts. */
export interface TokenParties {
  issuer: string;
  /** The `service` of the token protocol; tokens carry it as `aud`. */
  service: string;
}

/** A signed token and its lifetime. */
export interface IssuedToken {
  token: string;
  expiresIn: number;
  issuedAt: Date;
}

/** Signs an access token for `subject` granting `access`. */
export function issueAccessToken(
  key: SigningKey,
  parties: TokenParties,
  subject: string,
  access: AccessEntry[],
  lifetimeSeconds: number,
  now = Date.now(),
): IssuedToken {
  const { token, iat } = signToken(key, parties, subject, lifetimeSeconds, now, { access });
  return { token, expiresIn: lifetimeSeconds, issuedAt: new Date(iat * 1000) };
}

/** Signs a refresh token: it names the account and its credential stamp, and grants nothing. */
export function issueRefreshToken(
  key: SigningKey,
  parties: TokenParties,
  subject: string,
  stamp: string,
  lifetimeSeconds: number,
  now = Date.now(),
): string {
  return signToken(key, parties, subject, lifetimeSeconds, now, { [REFRESH_CLAIM]: stamp }).token;
}

/** Signs the registered claims every Berth token carries, plus `extra`. */
function signToken(
  key: SigningKey,
  parties: TokenParties,
  subject: string,
  lifetimeSeconds: number,
  now: number,
  extra: Record<string, unknown>,
): { token: string; iat: number } {
  const iat = Math.floor(now / 1000);
  const claims = {
    iss: parties.issuer,
    sub: subject,
    aud: parties.service,
    exp: iat + lifetimeSeconds,
    nbf: iat - 1,
    iat,
    jti: randomUUID(),
    ...extra,
  };
  const token = jwt.sign(claims, key.privateKey, { algorithm: key.algorithm, keyid: key.kid });
  return { token, iat };
}

/** Why a token was refused; the message is safe to show the client. */
export class TokenError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TokenError';
  }
}

/** What verification needs. */
export interface TokenVerifier extends TokenParties {
  algorithm: TokenAlgorithm;
  /** Keys that may have signed the token; `kid` narrows the search when the token names one. */
  keys(kid: string | undefined): VerifyKey[];
}

/** A verified access token. */
export interface VerifiedAccess {
  subject: string;
  access: AccessEntry[];
  /** Milliseconds since the epoch. */
  expiresAt: number;
}

/** Verifies an access token; throws TokenError saying what is wrong. */
export function verifyAccessToken(token: string, verifier: TokenVerifier, now = Date.now()): VerifiedAccess {
  const claims = verifyJwt(token, verifier, now);
  if (REFRESH_CLAIM in claims) throw new TokenError('a refresh token is not an access token');
  const access = claims.access ?? [];
  if (!Array.isArray(access) || !access.every(isAccessEntry)) throw new TokenError('malformed access claim');
  return { subject: String(claims.sub ?? ''), access, expiresAt: (claims.exp as number) * 1000 };
}

/** Verifies a refresh token; returns its subject and credential stamp. */
export function verifyRefreshToken(
  token: string,
  verifier: TokenVerifier,
  now = Date.now(),
): { subject: string; stamp: string } {
  const claims = verifyJwt(token, verifier, now);
  const stamp = claims[REFRESH_CLAIM];
  if (typeof stamp !== 'string' || typeof claims.sub !== 'string')
    throw new TokenError('not a refresh token');
  return { subject: claims.sub, stamp };
}

function verifyJwt(token: string, verifier: TokenVerifier, now: number): jwt.JwtPayload {
  const decoded = jwt.decode(token, { complete: true });
  if (!decoded || typeof decoded.payload === 'string') throw new TokenError('malformed token');
  if (decoded.header.alg !== verifier.algorithm)
    throw new TokenError(
      `token algorithm ${String(decoded.header.alg)} is not the accepted ${verifier.algorithm}`,
    );
  const candidates = verifier.keys(decoded.header.kid);
  if (candidates.length === 0) throw new TokenError('token signed by an unknown key');
  let lastError: unknown;
  for (const { publicKey } of candidates) {
    try {
      const claims = jwt.verify(token, publicKey, {
        algorithms: [verifier.algorithm],
        audience: verifier.service,
        issuer: verifier.issuer,
        clockTolerance: CLOCK_SKEW_SECONDS,
        clockTimestamp: Math.floor(now / 1000),
      }) as jwt.JwtPayload;
      if (typeof claims.exp !== 'number') throw new TokenError('token has no expiry');
      return claims;
    } catch (err) {
      lastError = err;
    }
  }
  if (lastError instanceof TokenError) throw lastError;
  throw new TokenError(describe(lastError));
}

function describe(err: unknown): string {
  if (err instanceof jwt.TokenExpiredError) return 'token expired';
  if (err instanceof jwt.NotBeforeError) return 'token not valid yet';
  const message = (err as Error)?.message ?? 'invalid token';
  if (/audience/.test(message)) return 'token is for another service';
  if (/issuer/.test(message)) return 'token from another issuer';
  return 'token signature or format is invalid';
}

function isAccessEntry(value: unknown): value is AccessEntry {
  const entry = value as AccessEntry;
  return (
    typeof entry === 'object' &&
    entry !== null &&
    typeof entry.type === 'string' &&
    typeof entry.name === 'string' &&
    Array.isArray(entry.actions) &&
    entry.actions.every((action) => typeof action === 'string')
  );
}
