/**
 * `berth user add|passwd|rm`: password users of the policy file. Only the bcrypt hash is
 * stored; the password itself is read from stdin or the terminal, never from the arguments.
 */
import { ACCOUNT_NAME } from '../auth/policy.js';
import { hashPassword } from '../auth/secrets.js';
import {
  CliError,
  type CliIo,
  isHelp,
  onePositional,
  type ParsedArgs,
  parseCommandArgs,
  policyPath,
} from './io.js';
import { readNewPassword } from './password.js';
import {
  deleteEntry,
  getEntry,
  hasEntry,
  loadPolicyFile,
  type PolicyFile,
  removeUserReferences,
  savePolicyFile,
  setEntry,
} from './policy-file.js';

const USAGE = `usage: berth user add NAME [--policy FILE] [--password-stdin] [--admin]
       berth user passwd NAME [--policy FILE] [--password-stdin]
       berth user rm NAME [--policy FILE]`;

/** Runs `berth user SUBCOMMAND ...` (`args` without `user`); resolves with the exit code. */
export async function userCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'add':
      return userAdd(
        parseCommandArgs(rest, { 'password-stdin': { type: 'boolean' }, admin: { type: 'boolean' } }, USAGE),
        io,
      );
    case 'passwd':
      return userPasswd(parseCommandArgs(rest, { 'password-stdin': { type: 'boolean' } }, USAGE), io);
    case 'rm':
      return userRemove(parseCommandArgs(rest, {}, USAGE), io);
    default:
      throw new CliError(isHelp(sub) ? USAGE : `unknown user command "${sub}"\n${USAGE}`);
  }
}

async function userAdd(parsed: ParsedArgs, io: CliIo): Promise<number> {
  const name = userName(parsed);
  const file = policyPath(parsed, io.env, USAGE);
  const exists = (policy: PolicyFile) => {
    if (hasEntry(policy, 'users', name))
      throw new CliError(
        `user ${name} already exists in ${file}; use berth user passwd ${name} to change the password`,
      );
  };
  // Check before asking for a password, so nobody types one for nothing.
  exists(await loadPolicyFile(file));
  const hash = await newPasswordHash(parsed, io);
  const policy = await loadPolicyFile(file);
  exists(policy);
  const entry: Record<string, unknown> = { password: hash };
  if (parsed.values.admin === true) entry.admin = true;
  setEntry(policy, 'users', name, entry);
  await savePolicyFile(policy);
  io.stdout.write(`added user ${name}${entry.admin ? ' (admin)' : ''} to ${file}\n`);
  return 0;
}

async function userPasswd(parsed: ParsedArgs, io: CliIo): Promise<number> {
  const name = userName(parsed);
  const file = policyPath(parsed, io.env, USAGE);
  const existing = (policy: PolicyFile) => {
    const entry = getEntry(policy, 'users', name);
    if (!entry) throw new CliError(`no user ${name} in ${file}; use berth user add ${name} to create one`);
    return entry;
  };
  existing(await loadPolicyFile(file));
  const hash = await newPasswordHash(parsed, io);
  const policy = await loadPolicyFile(file);
  // Setting only the one key keeps `admin` and any comments on the entry.
  existing(policy).set('password', hash);
  await savePolicyFile(policy);
  io.stdout.write(`changed the password of ${name} in ${file}\n`);
  return 0;
}

async function userRemove(parsed: ParsedArgs, io: CliIo): Promise<number> {
  const name = userName(parsed);
  const file = policyPath(parsed, io.env, USAGE);
  const policy = await loadPolicyFile(file);
  if (!deleteEntry(policy, 'users', name)) throw new CliError(`no user ${name} in ${file}`);
  removeUserReferences(policy, name);
  await savePolicyFile(policy);
  io.stdout.write(`removed user ${name} from ${file}\n`);
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

function userName(parsed: ParsedArgs): string {
  const name = onePositional(parsed, USAGE);
  if (!ACCOUNT_NAME.test(name))
    throw new CliError(`invalid user name "${name}": use lower-case letters, digits and . _ - between them`);
  return name;
}
