/**
 * Who may do what: identities and the decision of which actions an identity has on a
 * repository. With a policy file the first repository rule matching the name decides, and
 * no match means no access. Without one (an htpasswd file only) any user who logs in may do
 * everything, as with distribution.
 */
import type { Policy, PolicyRobot } from './policy.js';
import { ROBOT_PREFIX } from './policy.js';
import { ACTIONS, type Action } from './scopes.js';

/** The caller, once credentials are checked. */
export type Identity =
  | { kind: 'anonymous' }
  | { kind: 'user'; name: string; admin: boolean }
  | { kind: 'robot'; name: string; robot: PolicyRobot };

/** The anonymous caller. */
export const ANONYMOUS: Identity = { kind: 'anonymous' };

/** What a token's `sub` says for `identity`: the user name, `robot$NAME`, or empty. */
export function subjectOf(identity: Identity): string {
  if (identity.kind === 'user') return identity.name;
  if (identity.kind === 'robot') return `${ROBOT_PREFIX}${identity.name}`;
  return '';
}

/** The access decision. */
export interface Permissions {
  /** The actions `identity` may take on `repository`, possibly none. */
  actions(identity: Identity, repository: string): Action[];
  /** Whether `identity` may list every repository (`registry:catalog:*`). */
  catalog(identity: Identity): boolean;
}

/** Permissions of an htpasswd-only setup: users may do everything, anonymous nothing. */
export const USERS_MAY_DO_EVERYTHING: Permissions = {
  actions: (identity) => (identity.kind === 'anonymous' ? [] : [...ACTIONS]),
  catalog: (identity) => identity.kind !== 'anonymous',
};

/** Permissions from a policy file. */
export function policyPermissions(policy: Policy): Permissions {
  return {
    actions(identity, repository) {
      if (identity.kind === 'user' && identity.admin) return [...ACTIONS];
      const granted = new Set<Action>();
      const rule = policy.repositories.find((candidate) =>
        candidate.pattern.matches(repository, identity.kind === 'user' ? identity.name : undefined),
      );
      for (const action of rule?.anonymous ?? []) granted.add(action);
      if (identity.kind === 'robot') {
        for (const grant of identity.robot.grants) {
          if (grant.pattern.matches(repository)) for (const action of grant.actions) granted.add(action);
        }
      }
      if (identity.kind === 'user' && rule) {
        const add = (actions: Action[] | undefined) => {
          for (const action of actions ?? []) granted.add(action);
        };
        add(rule.authenticated);
        add(rule.users.get(identity.name));
        if (rule.pattern.perUser) add(rule.owner);
        for (const [team, actions] of rule.teams) {
          if (policy.teams.get(team)?.includes(identity.name)) add(actions);
        }
      }
      return ACTIONS.filter((action) => granted.has(action));
    },
    catalog: (identity) => identity.kind === 'user' && identity.admin,
  };
}
