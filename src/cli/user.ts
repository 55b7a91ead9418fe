/**
 * `berth user add|passwd|rm|ls`: password users of the policy file. Only the bcrypt hash is
 * stored; the password itself is read from stdin or the terminal, never from the arguments.
 */
import { hashPassword } from '../auth/secrets.js';
import { groupNamed, pickSubcommand } from './help.js';
import {
  CliError,
  type CliIo,
  noPositionals,
  onePositional,
  type ParsedArgs,
  parseCommandArgs,
  policyPath,
} from './io.js';
import { readNewPassword } from './password.js';
import {
  accountName,
  getEntry,
  hasEntry,
  type PolicyFile,
  removeUserReferences,
  setEntry,
} from './policy-document.js';
import { editPolicyFile, loadPolicyFile, readPolicy, removeEntryFromFile } from './policy-file.js';
import { printTable } from './table.js';

/** Runs `berth user SUBCOMMAND ...` (`args` without `user`); resolves with the exit code. */
export async function userCommand(args: string[], io: CliIo): Promise<number> {
  const { sub, usage, rest } = pickSubcommand(groupNamed('user'), args);
  const passwordOption = { 'password-stdin': { type: 'boolean' } } as const;
  switch (sub.name) {
    case 'add':
      return userAdd(
        parseCommandArgs(rest, { ...passwordOption, admin: { type: 'boolean' } }, usage),
        usage,
        io,
      );
    case 'passwd':
      return userPasswd(parseCommandArgs(rest, passwordOption, usage), usage, io);
    case 'rm':
      return userRemove(parseCommandArgs(rest, {}, usage), usage, io);
    default: // ls: pickSubcommand lets no other name through
      return userList(parseCommandArgs(rest, {}, usage), usage, io);
  }
}

async function userAdd(parsed: ParsedArgs, usage: string, io: CliIo): Promise<number> {
  const name = userName(parsed, usage);
  const file = policyPath(parsed, io.env, usage);
  const refuseExisting = (policy: PolicyFile) => {
    if (hasEntry(policy, 'users', name))
      throw new CliError(
        `user ${name} already exists in ${file}; use berth user passwd ${name} to change the password`,
      );
  };
  // Check before asking for a password, so nobody types one for nothing.
  refuseExisting(await loadPolicyFile(file));
  const hash = await newPasswordHash(parsed, io);
  const admin = parsed.values.admin === true;
  await editPolicyFile(file, io.stderr, (policy) => {
    refuseExisting(policy);
    setEntry(policy, 'users', name, admin ? { password: hash, admin: true } : { password: hash });
  });
  io.stdout.write(`added user ${name}${admin ? ' (admin)' : ''} to ${file}\n`);
  return 0;
}

async function userPasswd(parsed: ParsedArgs, usage: string, io: CliIo): Promise<number> {
  const name = userName(parsed, usage);
  const file = policyPath(parsed, io.env, usage);
  const existing = (policy: PolicyFile) => {
    const entry = getEntry(policy, 'users', name);
    if (!entry) throw new CliError(`no user ${name} in ${file}; use berth user add ${name} to create one`);
    return entry;
  };
  existing(await loadPolicyFile(file));
  const hash = await newPasswordHash(parsed, io);
  // Setting only the one key keeps `admin` and any comments on the entry.
  await editPolicyFile(file, io.stderr, (policy) => existing(policy).set('password', hash));
  io.stdout.write(`changed the password of ${name} in ${file}\n`);
  return 0;
}

function userRemove(parsed: ParsedArgs, usage: string, io: CliIo): Promise<number> {
  const name = userName(parsed, usage);
  return removeEntryFromFile(policyPath(parsed, io.env, usage), 'user', name, io, (policy) =>
    removeUserReferences(policy, name),
  );
}

async function userList(parsed: ParsedArgs, usage: string, io: CliIo): Promise<number> {
  noPositionals(parsed, usage);
  const file = policyPath(parsed, io.env, usage);
  const policy = await readPolicy(file);
  if (policy.users.size === 0) {
    io.stdout.write(`no users in ${file}\n`);
    return 0;
  }
  const teamsOf = (user: string) =>
    [...policy.teams].filter(([, members]) => members.includes(user)).map(([team]) => team);
  const rows = [...policy.users.values()].map((user) => [
    user.name,
    user.admin ? 'yes' : 'no',
    teamsOf(user.name).join(',') || '-',
  ]);
  printTable(io.stdout, ['NAME', 'ADMIN', 'TEAMS'], rows);
  return 0;
}

/**
 * Reads the new password and hashes it. Typing and hashing take a while, so callers load the
 * file again afterwards rather than overwrite edits made meanwhile.
 */
async function newPasswordHash(parsed: ParsedArgs, io: CliIo): Promise<string> {
  const password = await readNewPassword(io.stdin, io.stderr, parsed.values['password-stdin'] === true);
  return hashPassword(password);
}

function userName(parsed: ParsedArgs, usage: string): string {
  return accountName(onePositional(parsed, usage), 'user');
}
