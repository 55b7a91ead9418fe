/**
 * Flags `berth agent` commands share: credentials, and the pull options of `pull` and `run`.
 */
import { CliError, type CliIo, type ParsedArgs } from '../cli/io.js';
import { readPassword } from '../cli/password.js';
import type { Credentials } from './auth-client.js';
import type { PullPolicy } from './images.js';
import type { PullOptions } from './pull.js';
import { runFlagTakesValue } from './run-options.js';

/** `--username` and `--password-stdin`. */
export const credentialFlags = {
  username: { type: 'string', short: 'u' },
  'password-stdin': { type: 'boolean' },
} as const;

/** The flags of `pull`. */
export const pullFlags = {
  ...credentialFlags,
  platform: { type: 'string' },
  'plain-http': { type: 'boolean' },
} as const;

/** Pull options from parsed `pull` flags (asking for a password when a user name was given). */
export async function pullOptions(parsed: ParsedArgs, io: CliIo): Promise<PullOptions> {
  const credentials = await askCredentials(parsed, io, false);
  return {
    ...(typeof parsed.values.platform === 'string' ? { platform: parsed.values.platform } : {}),
    ...(parsed.values['plain-http'] === true ? { plainHttp: true } : {}),
    ...(credentials ? { credentials } : {}),
  };
}

/** Credentials from `--username` and the password from stdin or the terminal. */
export async function askCredentials(
  parsed: ParsedArgs,
  io: CliIo,
  required: boolean,
): Promise<Credentials | undefined> {
  const username = parsed.values.username;
  if (typeof username !== 'string' || username === '') {
    if (required) throw new CliError('--username is required');
    return undefined;
  }
  const password = await readPassword(io.stdin, io.stderr, parsed.values['password-stdin'] === true);
  return { username, password };
}

/** Whether `arg` is a flag of `run` (its own or a container option) whose value comes next. */
export function runArgTakesValue(arg: string): boolean {
  return arg === '--pull' || arg === '--platform' || runFlagTakesValue(arg);
}

/**
 * `--pull`, `--platform` and `--plain-http` of `run`, taken out before the run options parser
 * sees them. Only flags before IMAGE count: the rest is the container's command.
 */
export function runPullFlags(argv: string[]): {
  pull: PullPolicy;
  platform?: string;
  plainHttp: boolean;
  rest: string[];
} {
  const rest: string[] = [];
  let pull: PullPolicy = 'missing';
  let platform: string | undefined;
  let plainHttp = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--' || !arg.startsWith('-')) {
      rest.push(...argv.slice(i));
      break;
    }
    const [flag, inline] = arg.includes('=')
      ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
      : [arg, undefined];
    if (flag === '--pull' || flag === '--platform') {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new CliError(`${flag} needs a value`);
      if (flag === '--platform') platform = value;
      else if (value === 'missing' || value === 'always' || value === 'never') pull = value;
      else throw new CliError(`--pull: expected missing, always or never, got "${value}"`);
    } else if (flag === '--plain-http') {
      plainHttp = true;
    } else {
      rest.push(arg);
      // A container option's value (`--name web`) is not IMAGE.
      if (inline === undefined && runFlagTakesValue(arg) && i + 1 < argv.length)
        rest.push(argv[++i] as string);
    }
  }
  return { pull, ...(platform ? { platform } : {}), plainHttp, rest };
}
