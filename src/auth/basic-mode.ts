/**
 * `auth.mode: basic`: every request carries HTTP Basic credentials (or none, for anonymous
 * access), checked against the policy's users and robots or an htpasswd file, and the policy
 * decides each request. Anonymous callers who are refused get a Basic challenge; known ones
 * get 403 DENIED.
 */
import { RegistryError } from '../registry/errors.js';
import { type Authorizer, type Caller, challengeHeader, type Need, type ObserveAuth } from './authorizer.js';
import { basicCredentials, type Login } from './login.js';
import { ANONYMOUS, type Identity, type Permissions, subjectOf } from './permissions.js';
import type { PolicySource } from './policy-source.js';

/** Options of basicAuthorizer. */
export interface BasicModeOptions {
  source: PolicySource;
  login: Login;
  observe: ObserveAuth;
  /** The realm of the Basic challenge. */
  realm: string;
}

/** The basic-mode authorizer. */
export function basicAuthorizer({ source, login, observe, realm }: BasicModeOptions): Authorizer {
  const challenge = { 'WWW-Authenticate': challengeHeader('Basic', { realm, charset: 'UTF-8' }) };
  return {
    async authorize(request, need) {
      const { accounts, permissions } = source.current();
      const credentials = basicCredentials(request.authorization);
      const identity = credentials
        ? await login(accounts, { ...credentials, remote: request.remote }, challenge)
        : ANONYMOUS;
      const caller = callerOf(identity, permissions);
      if (allowed(need, identity, caller)) return caller;
      // Challenging a request that carried no credentials is the protocol's first step (every
      // client pings /v2/ that way), not a denial.
      if (identity.kind === 'anonymous')
        throw new RegistryError('UNAUTHORIZED', 'authentication required', { headers: challenge });
      observe('access_denied');
      throw new RegistryError('DENIED', 'requested access to the resource is denied');
    },
  };
}

function callerOf(identity: Identity, permissions: Permissions): Caller {
  const listAll = permissions.catalog(identity);
  const may = (repository: string, action: string) =>
    (permissions.actions(identity, repository) as string[]).includes(action);
  return {
    subject: subjectOf(identity),
    may,
    lists: (repository) => listAll || may(repository, 'pull'),
  };
}

function allowed(need: Need, identity: Identity, caller: Caller): boolean {
  if (need.kind === 'repository') return need.actions.every((action) => caller.may(need.name, action));
  // As with distribution, the base endpoint and the catalog need a login, not a grant.
  return identity.kind !== 'anonymous';
}
