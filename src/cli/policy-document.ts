/**
 * Changing the policy file as a YAML document, not re-serialised from parsed data, so the
 * operator's comments, ordering and quoting survive an edit. These functions change the
 * document only; `policy-file.ts` reads, locks, checks and writes it.
 */
import { type Document, isMap, isScalar, isSeq, YAMLMap, type YAMLSeq } from 'yaml';
import { ACCOUNT_NAME, PolicyError } from '../auth/policy.js';
import { CliError } from './io.js';

/** The top-level sections whose entries the commands add and remove. */
export type Section = 'users' | 'teams' | 'robots';

/** A policy file open for editing. */
export interface PolicyFile {
  /** The path as given, for messages. */
  file: string;
  document: Document;
}

/** `name` if it is a valid user, team or robot name; otherwise a CliError saying what is. */
export function accountName(name: string, kind: 'user' | 'team' | 'robot'): string {
  if (!ACCOUNT_NAME.test(name))
    throw new CliError(
      `invalid ${kind} name "${name}": use lower-case letters, digits and . _ - between them`,
    );
  return name;
}

/** The entry `name` of `section` (a mapping), or undefined when there is none. */
export function getEntry(policy: PolicyFile, section: Section, name: string): YAMLMap | undefined {
  const entries = policy.document.get(section, true);
  if (!isMap(entries)) return undefined;
  const entry = entries.get(name, true);
  if (entry === undefined) return undefined;
  if (!isMap(entry)) throw new PolicyError(`${policy.file}: ${section}.${name}: expected a mapping`);
  return entry;
}

/** Whether `section` has an entry called `name`. */
export function hasEntry(policy: PolicyFile, section: Section, name: string): boolean {
  const entries = policy.document.get(section, true);
  return isMap(entries) && entries.has(name);
}

/** Adds or replaces the entry `name` of `section` with `value`, creating the section if needed. */
export function setEntry(policy: PolicyFile, section: Section, name: string, value: object): void {
  const entry = policy.document.createNode(value);
  // New mappings are block style, so a multi-line entry does not end up on one flow line;
  // a team's member list reads best on one line.
  if (isMap(entry)) entry.flow = false;
  if (isSeq(entry)) entry.flow = true;
  sectionMap(policy, section).set(name, entry);
}

/** Removes the entry `name` of `section`; returns whether there was one. */
export function deleteEntry(policy: PolicyFile, section: Section, name: string): boolean {
  const entries = policy.document.get(section, true);
  return isMap(entries) && entries.delete(name);
}

/** The member list of team `name`, or undefined when there is no such team. */
export function teamMembers(policy: PolicyFile, name: string): YAMLSeq | undefined {
  const teams = policy.document.get('teams', true);
  if (!isMap(teams) || !teams.has(name)) return undefined;
  const members = teams.get(name, true);
  if (isSeq(members)) return members;
  // `dev:` with nothing after it is an empty team.
  if (isScalar(members) && members.value === null) {
    setEntry(policy, 'teams', name, []);
    return teamMembers(policy, name);
  }
  throw new PolicyError(`${policy.file}: teams.${name}: expected a list of user names`);
}

/** Whether `members` lists `user`. */
export function hasMember(members: YAMLSeq, user: string): boolean {
  return members.items.some((member) => isScalar(member) && member.value === user);
}

/** Takes `user` out of `members`; returns whether it was there. */
export function removeMember(members: YAMLSeq, user: string): boolean {
  const before = members.items.length;
  members.items = members.items.filter((member) => !(isScalar(member) && member.value === user));
  return members.items.length < before;
}

/** Takes `user` out of every team's member list and every repository rule's `users` map. */
export function removeUserReferences(policy: PolicyFile, user: string): void {
  const teams = policy.document.get('teams', true);
  if (isMap(teams)) {
    for (const team of teams.items) if (isSeq(team.value)) removeMember(team.value, user);
  }
  removeFromRules(policy, 'users', user);
}

/** Takes team `team` out of every repository rule's `teams` map. */
export function removeTeamReferences(policy: PolicyFile, team: string): void {
  removeFromRules(policy, 'teams', team);
}

function removeFromRules(policy: PolicyFile, key: 'users' | 'teams', name: string): void {
  const rules = policy.document.get('repositories', true);
  if (!isSeq(rules)) return;
  for (const rule of rules.items) {
    if (!isMap(rule)) continue;
    const grants = rule.get(key, true);
    if (isMap(grants)) grants.delete(name);
  }
}

/** The mapping of `section`, made one if the key is missing, empty (`users:`) or `{}`. */
function sectionMap(policy: PolicyFile, section: Section): YAMLMap {
  const current = policy.document.get(section, true);
  if (isMap(current)) {
    if (current.items.length === 0) current.flow = false;
    return current;
  }
  if (current !== undefined && !(isScalar(current) && current.value === null))
    throw new PolicyError(`${policy.file}: ${section}: expected a mapping`);
  const created = new YAMLMap();
  // A bare `users:` may carry comments; keep them.
  if (current) {
    created.commentBefore = current.commentBefore;
    created.comment = current.comment;
  }
  policy.document.set(section, created);
  return created;
}
