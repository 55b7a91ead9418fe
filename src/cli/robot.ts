/**
 * `berth robot add|rm|ls`: robot accounts for automation. A robot logs in as `robot$NAME`
 * with a random secret that is shown once; the policy file keeps only its SHA-256.
 */
import { ACCOUNT_NAME, parsePolicy, parseRobotScope, ROBOT_PREFIX } from '../auth/policy.js';
import { hashRobotSecret, newRobotSecret } from '../auth/secrets.js';
import { parseDuration } from '../config/values.js';
import {
  CliError,
  type CliIo,
  isHelp,
  onePositional,
  type ParsedArgs,
  parseCommandArgs,
  policyPath,
} from './io.js';
import { deleteEntry, hasEntry, loadPolicyFile, savePolicyFile, setEntry } from './policy-file.js';

const USAGE = `usage: berth robot add NAME --scope repository:PATTERN:ACTIONS [--scope ...] [--expires 90d]
                       [--description TEXT] [--policy FILE]
       berth robot rm NAME [--policy FILE]
       berth robot ls [--policy FILE]`;

/** Runs `berth robot SUBCOMMAND ...` (`args` without `robot`); resolves with the exit code. */
export async function robotCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  switch (sub) {
    case 'add': {
      const options = {
        scope: { type: 'string', multiple: true },
        expires: { type: 'string' },
        description: { type: 'string' },
      } as const;
      return robotAdd(parseCommandArgs(rest, options, USAGE), io);
    }
    case 'rm':
      return robotRemove(parseCommandArgs(rest, {}, USAGE), io);
    case 'ls':
      return robotList(parseCommandArgs(rest, {}, USAGE), io);
    default:
      throw new CliError(isHelp(sub) ? USAGE : `unknown robot command "${sub}"\n${USAGE}`);
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

async function robotAdd(parsed: ParsedArgs, io: CliIo): Promise<number> {
  const name = robotName(parsed);
  const file = policyPath(parsed, io.env, USAGE);
  const scopes = (parsed.values.scope as string[] | undefined) ?? [];
  if (scopes.length === 0) throw new CliError(`give at least one --scope\n${USAGE}`);
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
  const policy = await loadPolicyFile(file);
  if (hasEntry(policy, 'robots', name))
    throw new CliError(
      `robot ${name} already exists in ${file}; remove it with berth robot rm ${name} first`,
    );
  const secret = newRobotSecret();
  const entry: Record<string, unknown> = { secret: hashRobotSecret(secret), scopes };
  if (expires !== undefined) entry.expires = expires;
  const description = parsed.values.description;
  if (typeof description === 'string' && description !== '') entry.description = description;
  setEntry(policy, 'robots', name, entry);
  await savePolicyFile(policy);
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

async function robotRemove(parsed: ParsedArgs, io: CliIo): Promise<number> {
  const name = robotName(parsed);
  const file = policyPath(parsed, io.env, USAGE);
  const policy = await loadPolicyFile(file);
  if (!deleteEntry(policy, 'robots', name)) throw new CliError(`no robot ${name} in ${file}`);
  await savePolicyFile(policy);
  io.stdout.write(`removed robot ${name} from ${file}\n`);
  return 0;
}

async function robotList(parsed: ParsedArgs, io: CliIo): Promise<number> {
  if (parsed.positionals.length > 0)
    throw new CliError(`unexpected argument "${parsed.positionals[0]}"\n${USAGE}`);
  const file = policyPath(parsed, io.env, USAGE);
  // Parsing through the server's validator lists what the server would actually accept.
  const policy = parsePolicy((await loadPolicyFile(file)).document.toString(), file);
  const rows = [...policy.robots.values()].map((robot) => [
    `${ROBOT_PREFIX}${robot.name}`,
    robot.grants.map((grant) => `repository:${grant.pattern.source}:${grant.actions.join(',')}`).join(' '),
    robot.expires === undefined
      ? 'never'
      : `${new Date(robot.expires).toISOString().replace(/\.000Z$/, 'Z')}${robot.expires <= io.now() ? ' (expired)' : ''}`,
  ]);
  if (rows.length === 0) {
    io.stdout.write(`no robot accounts in ${file}\n`);
    return 0;
  }
  const table = [['NAME', 'SCOPES', 'EXPIRES'], ...rows];
  const widths = [0, 1].map((column) => Math.max(...table.map((row) => (row[column] as string).length)));
  for (const row of table) {
    io.stdout.write(
      `${row.map((cell, i) => (i < 2 ? cell.padEnd(widths[i] as number) : cell)).join('  ')}\n`,
    );
  }
  return 0;
}

function robotName(parsed: ParsedArgs): string {
  let name = onePositional(parsed, USAGE);
  // Accept the login form too: `berth robot rm robot$ci`.
  if (name.startsWith(ROBOT_PREFIX)) name = name.slice(ROBOT_PREFIX.length);
  if (!ACCOUNT_NAME.test(name))
    throw new CliError(`invalid robot name "${name}": use lower-case letters, digits and . _ - between them`);
  return name;
}
