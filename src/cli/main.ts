/**
 * The `berth` command line: dispatches to subcommands and turns their failures into a clear
 * message instead of a stack trace: exit code 1 for usage errors and refusals, 2 for an
 * invalid configuration or policy file.
 */
import { PolicyError } from '../auth/policy-error.js';
import { ConfigError, loadConfig } from '../config/load.js';
import { CliError, processIo } from './io.js';
import { berthVersion } from './version.js';

const USAGE = `Usage: berth <command> [options]

Commands:
  serve [--config FILE]     Run the registry (default: 0.0.0.0:5000, data in ./data).
                            FILE may also come from BERTH_CONFIG; BERTH_* variables
                            override single keys (BERTH_HTTP_ADDR=127.0.0.1:5001).
  config check FILE         Validate a configuration file (and BERTH_* overrides)
                            without starting anything.
  healthcheck [--config FILE]
                            Exit 0 if the Berth this configuration describes
                            answers GET /readyz with 200, else 1 (for HEALTHCHECK).
  user add NAME [--admin] [--password-stdin]
                            Add a user to the policy file; asks for the password
                            twice (or reads one line from stdin).
  user passwd NAME [--password-stdin]
                            Change a user's password.
  user rm NAME              Remove a user, also from teams and repository rules.
  robot add NAME --scope repository:PATTERN:ACTIONS [--scope ...]
            [--expires 90d] [--description TEXT]
                            Add a robot account; prints its secret once.
  robot rm NAME             Remove a robot account.
  robot ls                  List robot accounts with their scopes and expiry.
                            user and robot commands edit the policy file given
                            with --policy FILE or BERTH_AUTH_POLICY.
  token inspect TOKEN|-     Decode a registry token without verifying it.
  agent <command>           Pull images and run them as containers with runc
                            (berth agent --help lists its commands).

Options:
  -h, --help                Show this help.
  -v, --version             Print the version.
`;

/** Runs the CLI with `args` (without node and script); resolves with the exit code. */
export async function main(args: string[], out = process.stdout, err = process.stderr): Promise<number> {
  const [command, ...rest] = args;
  try {
    switch (command) {
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        out.write(USAGE);
        return command === undefined ? 1 : 0;
      case '-v':
      case '--version':
      case 'version':
        out.write(`berth ${berthVersion()}\n`);
        return 0;
      case 'serve':
        // Each command loads only its own modules: `berth agent run` should not pay for Koa.
        return await (await import('./serve.js')).serve(configOption('serve', rest));
      case 'healthcheck':
        return await (await import('./healthcheck.js')).healthcheck(
          configOption('healthcheck', rest),
          out,
          err,
        );
      case 'config':
        return await configCommand(rest, out);
      case 'user':
        return await (await import('./user.js')).userCommand(rest, processIo(out, err));
      case 'robot':
        return await (await import('./robot.js')).robotCommand(rest, processIo(out, err));
      case 'token':
        return await (await import('./token.js')).tokenCommand(rest, processIo(out, err));
      case 'agent':
        return await (await import('../agent/cli.js')).agentCommand(rest, processIo(out, err));
      default:
        err.write(`berth: unknown command "${command}"\n\n${USAGE}`);
        return 1;
    }
  } catch (error) {
    if (error instanceof CliError) {
      err.write(`berth: ${error.message}\n`);
      return error.exitCode;
    }
    if (error instanceof ConfigError || error instanceof PolicyError) {
      err.write(`berth: ${error.message}\n`);
      return 2;
    }
    throw error;
  }
}

/** The configuration file of `serve` and `healthcheck`: `--config FILE`, else BERTH_CONFIG. */
function configOption(command: string, args: string[]): string | undefined {
  let file = process.env.BERTH_CONFIG || undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--config' || arg === '-c') {
      file = args[++i];
      if (!file) throw new CliError('--config needs a file name');
    } else if (arg.startsWith('--config=')) {
      file = arg.slice('--config='.length);
    } else if (arg === '-h' || arg === '--help') {
      throw new CliError(`usage: berth ${command} [--config FILE]`);
    } else {
      throw new CliError(`${command}: unexpected argument "${arg}"`);
    }
  }
  return file;
}

async function configCommand(args: string[], out: NodeJS.WritableStream): Promise<number> {
  const [sub, file, ...extra] = args;
  if (sub !== 'check' || !file || extra.length > 0) throw new CliError('usage: berth config check FILE');
  const { warnings } = await loadConfig(file, process.env);
  for (const warning of warnings) out.write(`warning: ${warning}\n`);
  out.write(`${file}: configuration is valid\n`);
  return 0;
}
