/**
 * `berth repo rm NAME`: deletes a repository through a running registry
 * (`DELETE /v2/<name>/_berth/repository`), after asking unless `--yes` is given.
 */
import { isValidName } from '../registry/names.js';
import { groupNamed, pickSubcommand } from './help.js';
import { CliError, type CliIo, onePositional, type ParsedArgs, parseCommandArgs } from './io.js';
import { readFirstLine } from './password.js';
import { REGISTRY_OPTIONS, registryHttp } from './registry-http.js';

/** Runs `berth repo SUBCOMMAND ...` (`args` without `repo`); resolves with the exit code. */
export async function repoCommand(args: string[], io: CliIo): Promise<number> {
  const { usage, rest } = pickSubcommand(groupNamed('repo'), args);
  const options = { ...REGISTRY_OPTIONS, yes: { type: 'boolean', short: 'y' } } as const;
  return repoRemove(parseCommandArgs(rest, options, usage), usage, io);
}

async function repoRemove(parsed: ParsedArgs, usage: string, io: CliIo): Promise<number> {
  const name = onePositional(parsed, usage);
  if (!isValidName(name)) throw new CliError(`"${name}" is not a repository name\n${usage}`);
  if (parsed.values['password-stdin'] === true && parsed.values.yes !== true)
    throw new CliError('standard input holds the password: pass --yes to delete without asking');
  const registry = await registryHttp(parsed, io);
  if (parsed.values.yes !== true) {
    io.stderr.write(
      `Delete repository ${name} on ${registry.host} with all its tags, history and manifests? [y/N] `,
    );
    const answer = (await readFirstLine(io.stdin)).trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes')
      throw new CliError(`${name} not deleted (pass --yes to delete without asking)`);
  }
  await registry.send('DELETE', `/v2/${name}/_berth/repository`);
  io.stdout.write(`deleted repository ${name} (its blob data stays until garbage collection)\n`);
  return 0;
}
