/**
 * `berth robot add|rm|ls`: robot accounts for automation. A robot logs in as `robot$NAME`
 * with a random secret that is shown once; the policy file keeps only its SHA-256.
 */
import { parseRobotScope, ROBOT_PREFIX } from '../auth/policy.js';
import { hashRobotSecret, newRobotSecret } from '../auth/secrets.js';
import { parseDuration } from '../config/values.js';
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
import { accountName, hasEntry, setEntry } from './policy-document.js';
import { editPolicyFile, readPolicy, removeEntryFromFile } from './policy-file.js';
import { printTable } from './table.js';

/** Runs `berth robot SUBCOMMAND ...` (`args` without `robot`); resolves with the exit code. */
export async function robotCommand(args: string[], io: CliIo): Promise<number> {
  const { sub, usage, rest } = pickSubcommand(groupNamed('robot'), args);
  switch (sub.name) {
    case 'add': {
      const options = {
        scope: { type: 'string', multiple: true },
        expires: { type: 'string' },
        description: { type: 'string' },
      } as const;
      return robotAdd(parseCommandArgs(rest, options, usage), usage, io);
    }
    case 'rm':
      return robotRemove(parseCommandArgs(rest, {}, usage), usage, io);
    default: // ls: pickSubcommand lets no other name through
      return robotList(parseCommandArgs(rest, {}, usage), usage, io);
  }
}

/** Milliseconds in an `--expires` duration such as `90d`, `12h` or `1d12h`. */
export function parseExpiresIn(text: string): number {
  let ms: number;
  try {
    // A bare number would be seconds in config; for an expiry that is surely a mistake.
    if (/^[\d.]+$/.test(text.trim())) throw new Error('no unit');
    ms = parseDuration(text);
  } catch {
    throw new CliError(`--expires ${text}: expected a duration such as 90d, 12h or 30m`);
  }
  if (ms <= 0) throw new CliError(`--expires ${text}: must be longer than zero`);
  return ms;
}

async function robotAdd(parsed: ParsedArgs, usage: string, io: CliIo): Promise<number> {
  const name = robotName(parsed, usage);
  const file = policyPath(parsed, io.env, usage);
  const scopes = (parsed.values.scope as string[] | undefined) ?? [];
  if (scopes.length === 0) throw new CliError(`give at least one --scope\n${usage}`);
  for (const scope of scopes) {
    try {
      parseRobotScope(scope, `--scope ${scope}`);
    } catch (err) {
      throw new CliError((err as Error).message);
    }
  }
  const expiresText = parsed.values.expires as string | undefined;
  // Whole seconds: nobody needs milliseconds in a policy file.
  const expires =
    expiresText === undefined
      ? undefined
      : new Date(io.now() + parseExpiresIn(expiresText)).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const secret = newRobotSecret();
  const entry: Record<string, unknown> = { secret: hashRobotSecret(secret), scopes };
  if (expires !== undefined) entry.expires = expires;
  const description = parsed.values.description;
  if (typeof description === 'string' && description !== '') entry.description = description;
  await editPolicyFile(file, io.stderr, (policy) => {
    if (hasEntry(policy, 'robots', name))
      throw new CliError(
        `robot ${name} already exists in ${file}; remove it with berth robot rm ${name} first`,
      );
    setEntry(policy, 'robots', name, entry);
  });
  io.stdout.write(
    [
      'robot account created',
      `username: ${ROBOT_PREFIX}${name}`,
      `secret:   ${secret}`,
      `expires:  ${expires ?? 'never'}`,
      'Store the secret now: Berth keeps only its hash.',
      '',
    ].join('\n'),
  );
  return 0;
}

function robotRemove(parsed: ParsedArgs, usage: string, io: CliIo): Promise<number> {
  const name = robotName(parsed, usage);
  return removeEntryFromFile(policyPath(parsed, io.env, usage), 'robot', name, io);
}

async function robotList(parsed: ParsedArgs, usage: string, io: CliIo): Promise<number> {
  noPositionals(parsed, usage);
  const file = policyPath(parsed, io.env, usage);
  // Parsing through the server's validator lists what the server would actually accept.
  const policy = await readPolicy(file);
  const rows = [...policy.robots.values()].map((robot) => [
    `${ROBOT_PREFIX}${robot.name}`,
    robot.grants.map((grant) => `repository:${grant.pattern.source}:${grant.actions.join(',')}`).join(' '),
    robot.expires === undefined
      ? 'never'
      : `${new Date(robot.expires).toISOString().replace(/\.000Z$/, 'Z')}${robot.expires <= io.now() ? ' (expired)' : ''}`,
  ]);
  if (rows.length === 0) io.stdout.write(`no robot accounts in ${file}\n`);
  else printTable(io.stdout, ['NAME', 'SCOPES', 'EXPIRES'], rows);
  return 0;
}

function robotName(parsed: ParsedArgs, usage: string): string {
  const name = onePositional(parsed, usage);
  // Accept the login form too: `berth robot rm robot$ci`.
  return accountName(name.startsWith(ROBOT_PREFIX) ? name.slice(ROBOT_PREFIX.length) : name, 'robot');
}
