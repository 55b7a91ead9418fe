/**
 * Whether a policy file may be used: the one judgement the server makes at start-up and on
 * every reload, `berth config check` makes before a deploy, and the account commands make
 * before they write. Errors refuse the file; warnings point at entries that have no effect.
 */
import { type Policy, PolicyError, parsePolicy } from './policy.js';

/** A usable policy and what looks wrong in it. */
export interface CheckedPolicy {
  policy: Policy;
  /** Each names the file and the entry, like an error. */
  warnings: string[];
}

/**
 * Parses and judges the text of a policy file; `source` names it in messages, `htpasswdUsers`
 * are users who log in from an htpasswd file (undefined when there is none). Throws
 * PolicyError for anything that refuses the file, including an empty policy: no users, robots
 * or rules is what a truncated or half-written file looks like, and accepting it would lock
 * everyone out until the next good write.
 */
export function checkPolicy(
  text: string,
  source: string,
  htpasswdUsers?: ReadonlySet<string>,
): CheckedPolicy {
  const policy = parsePolicy(text, source);
  if (policy.users.size === 0 && policy.robots.size === 0 && policy.repositories.length === 0)
    throw new PolicyError(
      `${source}: the policy is empty (no users, robots or repository rules); it is refused like a broken file, since an empty or half-written file would otherwise lock everyone out`,
    );
  return { policy, warnings: unknownUserWarnings(policy, source, htpasswdUsers) };
}

/** Team members and rule users who are nobody: they can never log in, so the entry does nothing. */
function unknownUserWarnings(
  policy: Policy,
  source: string,
  htpasswdUsers: ReadonlySet<string> | undefined,
): string[] {
  const known = (name: string) => policy.users.has(name) || (htpasswdUsers?.has(name) ?? false);
  const nobody = htpasswdUsers ? 'not a user of this file or the htpasswd file' : 'not a user of this file';
  const warnings: string[] = [];
  for (const [team, members] of policy.teams) {
    for (const member of members.filter((name) => !known(name)))
      warnings.push(`${source}: teams.${team}: ${member} is ${nobody}`);
  }
  policy.repositories.forEach((rule, i) => {
    for (const user of [...rule.users.keys()].filter((name) => !known(name)))
      warnings.push(`${source}: repositories[${i}].users.${user}: ${user} is ${nobody}`);
  });
  return warnings;
}
