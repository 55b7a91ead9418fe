/**
 * What the account commands (`berth user`, `berth robot`, `berth token`) get from the outside
 * world, passed in rather than taken from `process` so tests can drive them without a
 * terminal, plus their shared argument parsing and error type.
 */
import { parseArgs } from 'node:util';

/** A place to write text: process.stdout, process.stderr or a test's collector. */
export interface TextOut {
  write(text: string): unknown;
  /** True on a terminal: progress lines are drawn only there. */
  isTTY?: boolean;
}

/** Standard input: a pipe, a file, a terminal (isTTY, setRawMode) or a test's Readable. */
export type TextIn = NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };

/** The streams, environment and clock a command uses. */
export interface CliIo {
  stdin: TextIn;
  stdout: TextOut;
  stderr: TextOut;
  env: NodeJS.ProcessEnv;
  /** Milliseconds since the epoch; tests pin it. */
  now: () => number;
}

/** The real process's streams, environment and clock. */
export function processIo(stdout: TextOut = process.stdout, stderr: TextOut = process.stderr): CliIo {
  return { stdin: process.stdin, stdout, stderr, env: process.env, now: Date.now };
}

/**
 * A command that cannot go ahead: bad arguments, a user that already exists, a token that is
 * not a JWT. `berth` prints the message and exits with `exitCode` (1 unless said otherwise).
 */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** `-h` or `--help` was given: `berth` prints `usage` on standard output and exits 0. */
export class HelpRequest extends CliError {
  constructor(usage: string) {
    super(usage, 0);
    this.name = 'HelpRequest';
  }
}

/** Option specs in node:util parseArgs form. */
type OptionSpecs = NonNullable<Parameters<typeof parseArgs>[0]>['options'];

/** Parsed options (by name) and positional arguments. */
export interface ParsedArgs {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

/**
 * Parses `args` against `options`, always accepting `--policy FILE`; `-h`/`--help` asks for
 * `usage`, and an unknown option or a missing value becomes a CliError that repeats it.
 */
export function parseCommandArgs(args: string[], options: OptionSpecs, usage: string): ParsedArgs {
  if (args.includes('-h') || args.includes('--help')) throw new HelpRequest(usage);
  try {
    const parsed = parseArgs({
      args,
      options: { policy: { type: 'string' }, ...options },
      allowPositionals: true,
      strict: true,
    });
    return { values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals };
  } catch (err) {
    throw new CliError(`${(err as Error).message}\n${usage}`);
  }
}

/** The policy file to edit: `--policy FILE`, else BERTH_AUTH_POLICY, else a usage error. */
export function policyPath(parsed: ParsedArgs, env: NodeJS.ProcessEnv, usage: string): string {
  const flag = parsed.values.policy;
  const file = typeof flag === 'string' && flag !== '' ? flag : env.BERTH_AUTH_POLICY;
  if (!file) throw new CliError(`no policy file: pass --policy FILE (or set BERTH_AUTH_POLICY)\n${usage}`);
  return file;
}

/** Exactly one positional argument (a name or a token), or a usage error. */
export function onePositional(parsed: ParsedArgs, usage: string): string {
  const [first, ...extra] = parsed.positionals;
  if (first === undefined || first === '') throw new CliError(`missing argument\n${usage}`);
  noPositionals({ values: {}, positionals: extra }, usage);
  return first;
}

/** No positional arguments (a listing), or a usage error. */
export function noPositionals(parsed: ParsedArgs, usage: string): void {
  const [extra] = parsed.positionals;
  if (extra !== undefined) throw new CliError(`unexpected argument "${extra}"\n${usage}`);
}
