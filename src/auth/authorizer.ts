/**
 * The contract between HTTP and auth: a route says what it needs, the authorizer answers with
 * what the caller may do or throws the 401/403/429 to send. One authorizer per auth mode.
 */
import type { Action } from './scopes.js';

/** What a request needs. */
export type Need =
  /** `GET /v2/`: any caller the registry recognises (with a token or credentials). */
  | { kind: 'login' }
  | { kind: 'repository'; name: string; actions: Action[] }
  /** `GET /v2/_catalog`: answered with what the caller may see. */
  | { kind: 'catalog' };

/** The parts of a request auth looks at. */
export interface AuthRequest {
  authorization: string | undefined;
  /** Client address. */
  remote: string;
  /** `scheme://host` the client used, for a token realm derived from the request. */
  origin: string;
}

/** What the caller may do, once the need is met. */
export interface Caller {
  /** `sub` of the token or the user name; empty for anonymous callers. */
  subject: string;
  /** Whether the caller may take `action` on `repository` (e.g. pull the source of a mount). */
  may(repository: string, action: Action): boolean;
  /** Whether `repository` belongs in the caller's catalog. */
  lists(repository: string): boolean;
}

/** What auth reports for metrics. */
export type AuthEvent =
  | 'login_success'
  | 'login_failure'
  | 'login_limited'
  | 'token_issued'
  | 'token_invalid'
  | 'access_denied';

/** Receives auth events (the metrics counter in production). */
export type ObserveAuth = (event: AuthEvent) => void;

/** One auth mode. */
export interface Authorizer {
  authorize(request: AuthRequest, need: Need): Promise<Caller>;
}

/** `auth.mode: none`: everybody may do everything. */
export const OPEN_AUTHORIZER: Authorizer = {
  authorize: async () => ({ subject: '', may: () => true, lists: () => true }),
};

/** A `WWW-Authenticate` header value: `Scheme k="v",k2="v2"`. */
export function challengeHeader(scheme: string, params: Record<string, string | undefined>): string {
  const parts = Object.entries(params)
    .filter(([, value]) => value !== undefined)
    .map(([key, value]) => `${key}="${String(value).replace(/["\\]/g, '')}"`);
  return `${scheme} ${parts.join(',')}`;
}
