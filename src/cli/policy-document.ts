/**
 * Editing the policy file for the account commands. The file is edited as a YAML document,
 * not re-serialised from parsed data, so the operator's comments, ordering and quoting
 * survive. Every save re-validates the whole result with the server's own parser, so the CLI
 * never writes a file the server would refuse, and replaces the file atomically (temp file,
 * fsync, rename), so a server reloading it never sees half of it.
 */
import { mkdir, readFile, realpath } from 'node:fs/promises';
import * as path from 'node:path';
import { type Document, isMap, isScalar, isSeq, parseDocument, YAMLMap } from 'yaml';
import { type Policy, PolicyError, parsePolicy } from '../auth/policy.js';
import { writeFileAtomic } from '../fs/atomic-write.js';
import { CliError } from './io.js';

/** The top-level sections whose entries the commands add and remove. */
export type Section = 'users' | 'robots';

/** A policy file open for editing. */
export interface PolicyFile {
  /** The path as given, for messages. */
  file: string;
  document: Document;
}

/** What a new policy file starts as: empty sections, each saying what it is for. */
export const POLICY_SKELETON = `# Berth access policy: who may log in and what they may do.
# Getting started: "Private registry in 5 minutes" in Berth's README.
# berth user ... and berth robot ... edit this file and keep its comments.

# Users log in with a name and password (a bcrypt hash: berth user add / berth user passwd).
users: {}

# Teams: a name and its members, for use in repository rules.
teams: {}

# Robot accounts for automation log in as robot$NAME with a secret (berth robot add).
robots: {}

# Repository rules: the first rule whose match fits a repository decides; no match, no access.
#   - match: "team-a/**"
#     teams: { team-a: [pull, push] }
#     authenticated: [pull]
repositories: []
`;

/** Opens `file` for editing; a missing file starts from POLICY_SKELETON. */
export async function loadPolicyFile(file: string): Promise<PolicyFile> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT')
      throw new CliError(`cannot read policy file ${file}: ${(err as Error).message}`);
    text = POLICY_SKELETON;
  }
  const document = parseDocument(text);
  const problem = document.errors[0];
  if (problem) throw new PolicyError(`${file}: not valid YAML: ${problem.message}`);
  return { file, document };
}

/** Validates the edited document as the server would, then atomically replaces the file (mode 0600). */
export async function savePolicyFile(policy: PolicyFile): Promise<Policy> {
  const text = policy.document.toString();
  const parsed = parsePolicy(text, policy.file);
  await writeAtomically(await resolveTarget(policy.file), text);
  return parsed;
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
  // New entries are block style, so a multi-line entry does not end up on one flow line.
  if (isMap(entry)) entry.flow = false;
  sectionMap(policy, section).set(name, entry);
}

/** Removes the entry `name` of `section`; returns whether there was one. */
export function deleteEntry(policy: PolicyFile, section: Section, name: string): boolean {
  const entries = policy.document.get(section, true);
  return isMap(entries) && entries.delete(name);
}

/** Takes `user` out of every team's member list and every repository rule's `users` map. */
export function removeUserReferences(policy: PolicyFile, user: string): void {
  const teams = policy.document.get('teams', true);
  if (isMap(teams)) {
    for (const team of teams.items) {
      if (!isSeq(team.value)) continue;
      team.value.items = team.value.items.filter((member) => !(isScalar(member) && member.value === user));
    }
  }
  const rules = policy.document.get('repositories', true);
  if (isSeq(rules)) {
    for (const rule of rules.items) {
      if (!isMap(rule)) continue;
      const users = rule.get('users', true);
      if (isMap(users)) users.delete(user);
    }
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

/** The file to replace: through a symlink to its target, so the link stays a link. */
async function resolveTarget(file: string): Promise<string> {
  try {
    return await realpath(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return path.resolve(file);
    throw new CliError(`cannot resolve policy file ${file}: ${(err as Error).message}`);
  }
}

/** Replaces `target` with `text` atomically, mode 0600 (the file holds password hashes). */
async function writeAtomically(target: string, text: string): Promise<void> {
  try {
    await mkdir(path.dirname(target), { recursive: true, mode: 0o700 });
    await writeFileAtomic(target, text, 0o600);
  } catch (err) {
    throw new CliError(`cannot write policy file ${target}: ${(err as Error).message}`);
  }
}
