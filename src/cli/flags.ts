/**
 * The flags of maintenance commands (`berth purge`, `gc`, `fsck`, `retention`): `--name`
 * switches and `--name VALUE` options, `-h`/`--help`, and nothing positional. One parser, so
 * that every such command answers a missing value or a stray argument the same way.
 */
import { parseDuration } from '../config/values.js';
import { CliError, HelpRequest } from './io.js';

/** Each flag a command takes: `switch` stands alone, `value` takes the next argument. */
export type FlagKinds = Readonly<Record<string, 'switch' | 'value'>>;

/** Parsed flags: true for a switch given, the text for an option given. */
export type ParsedFlags = Partial<Record<string, string | true>>;

/**
 * Parses `args`; `aliases` maps short names (`-c`) to long ones (`--config`). A usage error
 * exits with `exitCode` (fsck keeps 1 for "something is broken").
 */
export function parseFlags(
  command: string,
  args: readonly string[],
  kinds: FlagKinds,
  usage: string,
  aliases: Readonly<Record<string, string>> = {},
  exitCode = 1,
): ParsedFlags {
  const parsed: ParsedFlags = {};
  for (let i = 0; i < args.length; i++) {
    const given = args[i] as string;
    if (given === '-h' || given === '--help') throw new HelpRequest(usage);
    const flag = aliases[given] ?? given;
    const kind = kinds[flag];
    if (!kind) throw new CliError(`${command}: unexpected argument "${given}"\n${usage}`, exitCode);
    if (kind === 'switch') {
      parsed[flag] = true;
      continue;
    }
    const value = args[++i];
    if (value === undefined) throw new CliError(`${given} needs a value\n${usage}`, exitCode);
    parsed[flag] = value;
  }
  return parsed;
}

/** A duration option's value in ms; a usage error naming `flag` when it is not one. */
export function durationFlag(flag: string, text: string, usage: string, exitCode = 1): number {
  try {
    return parseDuration(text);
  } catch (err) {
    throw new CliError(`${flag}: ${(err as Error).message}\n${usage}`, exitCode);
  }
}
