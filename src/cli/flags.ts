/**
 * The flags of maintenance commands (`berth purge`, `berth gc`): `--name` switches and
 * `--name VALUE` options, `-h`/`--help`, and nothing positional. One parser, so that every
 * such command answers a missing value or a stray argument the same way.
 */
import { CliError, HelpRequest } from './io.js';

/** Each flag a command takes: `switch` stands alone, `value` takes the next argument. */
export type FlagKinds = Readonly<Record<string, 'switch' | 'value'>>;

/** Parsed flags: true for a switch given, the text for an option given. */
export type ParsedFlags = Partial<Record<string, string | true>>;

/** Parses `args`; `aliases` maps short names (`-c`) to long ones (`--config`). */
export function parseFlags(
  command: string,
  args: readonly string[],
  kinds: FlagKinds,
  usage: string,
  aliases: Readonly<Record<string, string>> = {},
): ParsedFlags {
  const parsed: ParsedFlags = {};
  for (let i = 0; i < args.length; i++) {
    const given = args[i] as string;
    if (given === '-h' || given === '--help') throw new HelpRequest(usage);
    const flag = aliases[given] ?? given;
    const kind = kinds[flag];
    if (!kind) throw new CliError(`${command}: unexpected argument "${given}"\n${usage}`);
    if (kind === 'switch') {
      parsed[flag] = true;
      continue;
    }
    const value = args[++i];
    if (value === undefined) throw new CliError(`${given} needs a value\n${usage}`);
    parsed[flag] = value;
  }
  return parsed;
}
