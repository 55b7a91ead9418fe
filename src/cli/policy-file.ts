/**
 * The policy file as the account commands read and write it. An edit holds a lock file
 * beside the policy file from reading to replacing, so two commands at once both land; is
 * checked with the server's own judgement (`checkPolicy`) before anything is written, so the
 * CLI never writes a file the server would refuse; and replaces the file atomically (temp
 * file, fsync, rename) with the old file's owner, group and mode, so a root edit of a file the
 * server reads as another user stays readable to it, and a reloading server never sees half
 * a file.
 */
import type { Stats } from 'node:fs';
import { mkdir, readFile, realpath, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { parseDocument } from 'yaml';
import { type Policy, PolicyError, parsePolicy } from '../auth/policy.js';
import { checkPolicy } from '../auth/policy-check.js';
import { type FileOwner, writeFileAtomic } from '../fs/atomic-write.js';
import { withLockFile } from '../fs/lock-file.js';
import { CliError, type TextOut } from './io.js';
import { deleteEntry, type PolicyFile } from './policy-document.js';

/** What a new policy file starts as: empty sections, each saying what it is for. */
export const POLICY_SKELETON = `# Berth access policy: who may log in and what they may do.
# Getting started: "Private registry in 5 minutes" in Berth's README.
# berth user, berth team and berth robot edit this file and keep its comments.

# Users log in with a name and password (a bcrypt hash: berth user add / berth user passwd).
users: {}

# Teams: a name and its members, for use in repository rules (berth team add).
teams: {}

# Robot accounts for automation log in as robot$NAME with a secret (berth robot add).
robots: {}

# Repository rules go in a list under "repositories:" (written by hand). The first rule whose
# match fits a repository decides; no match, no access. For example:
# repositories:
#   - match: "team-a/**"
#     teams: { dev: [pull, push] }
#     authenticated: [pull]
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

/** The policy in `file` as the server would parse it, for listings (a missing file is empty). */
export async function readPolicy(file: string): Promise<Policy> {
  return parsePolicy((await loadPolicyFile(file)).document.toString(), file);
}

/**
 * Reads `file`, lets `edit` change it, then checks and writes the result, all under the
 * file's lock; warnings about the result go to `warn`. Resolves with what `edit` returned.
 */
export async function editPolicyFile<T>(
  file: string,
  warn: TextOut,
  edit: (policy: PolicyFile) => T | Promise<T>,
): Promise<T> {
  const target = await resolveTarget(file);
  await makeDirectory(path.dirname(target));
  const lock = path.join(path.dirname(target), `.${path.basename(target)}.lock`);
  const locked = async () => {
    const policy = await loadPolicyFile(file);
    const result = await edit(policy);
    const text = policy.document.toString();
    const { warnings } = checkPolicy(text, file);
    await writePolicyText(target, text, warn);
    for (const warning of warnings) warn.write(`warning: ${warning}\n`);
    return result;
  };
  try {
    return await withLockFile(lock, locked, {
      busy: `another berth command has been editing ${file} for 30 s; if none is running, remove the lock file`,
    });
  } catch (err) {
    if (err instanceof CliError || err instanceof PolicyError) throw err;
    throw new CliError(`cannot edit policy file ${file}: ${(err as Error).message}`);
  }
}

/**
 * `berth user|team|robot rm NAME`: removes the entry `name` of the `kind`'s section and, with
 * `dropReferences`, what refers to it; a missing entry is refused. Says so on `out`.
 */
export async function removeEntryFromFile(
  file: string,
  kind: 'user' | 'team' | 'robot',
  name: string,
  io: { stdout: TextOut; stderr: TextOut },
  dropReferences: (policy: PolicyFile) => void = () => {},
): Promise<number> {
  await editPolicyFile(file, io.stderr, (policy) => {
    if (!deleteEntry(policy, `${kind}s`, name)) throw new CliError(`no ${kind} ${name} in ${file}`);
    dropReferences(policy);
  });
  io.stdout.write(`removed ${kind} ${name} from ${file}\n`);
  return 0;
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

async function makeDirectory(directory: string): Promise<void> {
  try {
    await mkdir(directory, { recursive: true, mode: 0o700 });
  } catch (err) {
    throw new CliError(`cannot create ${directory}: ${(err as Error).message}`);
  }
}

/**
 * Replaces `target` keeping its owner, group and mode; a new file is 0600 (it holds password
 * hashes) and belongs to whoever runs the command.
 */
async function writePolicyText(target: string, text: string, warn: TextOut): Promise<void> {
  const existing = await stat(target).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  const mode = existing ? existing.mode & 0o7777 : 0o600;
  const owner = existing && ownerToKeep(existing);
  try {
    await writeFileAtomic(target, text, mode, owner);
  } catch (err) {
    if (owner && (err as NodeJS.ErrnoException).code === 'EPERM')
      throw new CliError(
        `cannot keep ${target} owned by uid ${owner.uid}, gid ${owner.gid} (the server may read it as that user): edit it as root or as its owner`,
      );
    throw new CliError(`cannot write policy file ${target}: ${(err as Error).message}`);
  }
  if (mode & 0o004)
    warn.write(
      `warning: ${target} is readable by every user (mode ${(mode & 0o777).toString(8).padStart(4, '0')}) and holds password hashes; chmod o-r it\n`,
    );
}

/** The owner a replacement must be given, when it differs from what a new file gets. */
function ownerToKeep(existing: Stats): FileOwner | undefined {
  const same = existing.uid === process.geteuid?.() && existing.gid === process.getegid?.();
  return same ? undefined : { uid: existing.uid, gid: existing.gid };
}
