/**
 * `berth config check FILE`: everything `berth serve` would judge at start-up, without
 * starting: the configuration file with its BERTH_* overrides, then the policy and htpasswd
 * files it names, through the same function the server loads and reloads them with.
 */
import { loadAuthFiles } from '../auth/policy-source.js';
import { loadConfig, withConfigKey } from '../config/load.js';
import { groupNamed, pickSubcommand } from './help.js';
import { type CliIo, onePositional, parseCommandArgs } from './io.js';

/** Runs `berth config SUBCOMMAND ...` (`args` without `config`); resolves with the exit code. */
export async function configCommand(args: string[], io: CliIo): Promise<number> {
  // `check` is the only subcommand.
  const { usage, rest } = pickSubcommand(groupNamed('config'), args);
  const file = onePositional(parseCommandArgs(rest, {}, usage), usage);
  const { config, warnings } = await loadConfig(file, io.env);
  for (const warning of warnings) io.stdout.write(`warning: ${warning}\n`);
  io.stdout.write(`${file}: configuration is valid\n`);
  const { mode, policy, htpasswd } = config.auth;
  // The server reads neither file without auth, so neither is judged then.
  if (mode === 'none' || (policy === '' && htpasswd.path === '')) return 0;
  const files = { policy: policy || undefined, htpasswd: htpasswd.path || undefined };
  // Named as the server names it at start-up.
  const loaded = await withConfigKey(policy ? 'auth.policy' : 'auth.htpasswd.path', () =>
    loadAuthFiles(files),
  );
  for (const warning of loaded.warnings) io.stdout.write(`warning: ${warning}\n`);
  if (files.htpasswd) io.stdout.write(`${files.htpasswd}: htpasswd file is valid\n`);
  if (files.policy) io.stdout.write(`${files.policy}: policy is valid\n`);
  return 0;
}
