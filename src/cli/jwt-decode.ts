/**
 * Decoding a JWT without verifying it, for `berth token inspect`: a debugging aid that shows
 * what a token claims, not whether to believe it.
 */
import { CATALOG } from '../auth/scopes.js';

/** The decoded parts of a JWT. */
export interface DecodedJwt {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

/** What a registry token says, in a form people read. */
export interface TokenSummary {
  issuer: string | null;
  subject: string | null;
  audience: string | string[] | null;
  issuedAt: string | null;
  notBefore: string | null;
  expiresAt: string | null;
  /** Whether `exp` has passed; false for a token without one. */
  expired: boolean;
  /** The `access` claim as scopes: `repository:team-a/app:pull,push`. */
  access: string[];
  /**
   * What `GET /v2/_catalog` lists with this token: `all` repositories when it carries
   * `registry:catalog:*`, otherwise `filtered` to those the subject may pull.
   */
  catalog: 'all' | 'filtered';
}

const PART = /^[A-Za-z0-9_-]+$/;

/** Splits and decodes `token`; throws an Error saying why it is not a JWT. */
export function decodeJwt(token: string): DecodedJwt {
  const parts = token.trim().split('.');
  if (parts.length !== 3)
    throw new Error(`not a JWT: expected three parts separated by ".", found ${parts.length}`);
  const [header, payload, signature] = parts as [string, string, string];
  // An empty signature is allowed: alg "none" tokens have one, and we are not verifying.
  if (!PART.test(header) || !PART.test(payload) || !(signature === '' || PART.test(signature)))
    throw new Error('not a JWT: the parts must be base64url');
  return { header: jsonPart(header, 'header'), claims: jsonPart(payload, 'payload') };
}

/** Summarises the standard claims and the `access` claim of the Docker token protocol. */
export function summarizeClaims(claims: Record<string, unknown>, now: number): TokenSummary {
  const exp = claims.exp;
  return {
    issuer: typeof claims.iss === 'string' ? claims.iss : null,
    subject: typeof claims.sub === 'string' ? claims.sub : null,
    audience:
      typeof claims.aud === 'string' || Array.isArray(claims.aud) ? (claims.aud as string | string[]) : null,
    issuedAt: isoTime(claims.iat),
    notBefore: isoTime(claims.nbf),
    expiresAt: isoTime(exp),
    expired: typeof exp === 'number' && exp * 1000 <= now,
    access: Array.isArray(claims.access) ? claims.access.map(formatAccess) : [],
    catalog: Array.isArray(claims.access) && claims.access.some(grantsCatalog) ? 'all' : 'filtered',
  };
}

/** Whether an access entry is the catalog with every action, as the registry requires. */
function grantsCatalog(entry: unknown): boolean {
  const { type, name, actions } = (entry ?? {}) as Record<string, unknown>;
  return type === CATALOG.type && name === CATALOG.name && Array.isArray(actions) && actions.includes('*');
}

function jsonPart(part: string, name: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
  } catch {
    throw new Error(`not a JWT: the ${name} is not base64url-encoded JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`not a JWT: the ${name} is not a JSON object`);
  return value as Record<string, unknown>;
}

/** JWT times are seconds since the epoch. */
function isoTime(value: unknown): string | null {
  if (typeof value !== 'number' || !Number.isFinite(value)) return null;
  const date = new Date(value * 1000);
  return Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** One access entry as a scope string; anything malformed is shown as its JSON. */
function formatAccess(entry: unknown): string {
  const { type, name, actions } = (entry ?? {}) as Record<string, unknown>;
  if (typeof type === 'string' && typeof name === 'string' && Array.isArray(actions))
    return `${type}:${name}:${actions.join(',')}`;
  return JSON.stringify(entry);
}
