/**
 * The `berth` command line: dispatches to subcommands and turns their failures into a clear
 * message instead of a stack trace: exit code 0 for help asked for (on stdout), 1 for usage
 * errors and refusals (on stderr, with the usage), 2 for an invalid configuration or policy
 * file.
 */
import { parseWorkers } from '../config/schema.js';
import { expectedFailure } from './failure.js';
import { commandTypoHint, GROUPS, groupNamed, groupUsage, topUsage } from './help.js';
import { CliError, HelpRequest, processIo, type TextOut } from './io.js';
import { berthVersion } from './version.js';

/** Runs the CLI with `args` (without node and script); resolves with the exit code. */
export async function main(
  args: string[],
  out: TextOut = process.stdout,
  err: TextOut = process.stderr,
): Promise<number> {
  try {
    return await dispatch(args, out, err);
  } catch (error) {
    if (error instanceof HelpRequest) {
      out.write(error.message.endsWith('\n') ? error.message : `${error.message}\n`);
      return 0;
    }
    const failure = expectedFailure(error);
    if (!failure) throw error;
    err.write(`berth: ${failure.message}\n`);
    return failure.exitCode;
  }
}

async function dispatch(args: string[], out: TextOut, err: TextOut): Promise<number> {
  const [command, ...rest] = args;
  const io = processIo(out, err);
  // Each command loads only its own modules: `berth agent run` should not pay for Koa.
  switch (command) {
    case undefined:
      throw new CliError(`missing command\n\n${topUsage().trimEnd()}`);
    case '-h':
    case '--help':
      throw new HelpRequest(topUsage());
    case 'help':
      // `berth help user add` is `berth user add --help`.
      return dispatch([...rest, '--help'], out, err);
    case '-v':
    case '--version':
    case 'version':
      out.write(`berth ${berthVersion()}\n`);
      return 0;
    case 'serve': {
      let workers: number | undefined;
      const file = configOption('serve', rest, {
        '--workers': (value) => {
          workers = workersFlag(value);
        },
      });
      return await (await import('./serve.js')).serve(file, { workers });
    }
    case 'healthcheck':
      return await (await import('./healthcheck.js')).healthcheck(
        configOption('healthcheck', rest),
        out,
        err,
      );
    case 'purge':
      return await (await import('./purge.js')).purgeCommand(rest, io);
    case 'gc':
      return await (await import('./gc.js')).gcCommand(rest, io);
    case 'retention':
      return await (await import('./retention.js')).retentionCommand(rest, io);
    case 'fsck':
      return await (await import('./fsck.js')).fsckCommand(rest, io);
    case 'config':
      return await (await import('./config-check.js')).configCommand(rest, io);
    case 'user':
      return await (await import('./user.js')).userCommand(rest, io);
    case 'team':
      return await (await import('./team.js')).teamCommand(rest, io);
    case 'robot':
      return await (await import('./robot.js')).robotCommand(rest, io);
    case 'token':
      return await (await import('./token.js')).tokenCommand(rest, io);
    case 'tag':
      return await (await import('./tag.js')).tagCommand(rest, io);
    case 'repo':
      return await (await import('./repo.js')).repoCommand(rest, io);
    case 'agent':
      return await (await import('../agent/cli.js')).agentCommand(rest, io);
    default: {
      const names = [...GROUPS.map((group) => group.name), 'help', 'version'];
      throw new CliError(
        `unknown command "${command}"${commandTypoHint(command, names)}\n\n${topUsage().trimEnd()}`,
      );
    }
  }
}

/**
 * The configuration file of `serve` and `healthcheck`: `--config FILE`, else BERTH_CONFIG.
 * `flags` are the command's other options that take a value (`--workers N`), each handed it.
 */
function configOption(
  command: 'serve' | 'healthcheck',
  args: string[],
  flags: Record<string, (value: string) => void> = {},
): string | undefined {
  const usage = groupUsage(groupNamed(command));
  let file = process.env.BERTH_CONFIG || undefined;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '-h' || arg === '--help') throw new HelpRequest(usage);
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? splitOnce(arg, '=') : [arg, undefined];
    const flag = name === '-c' ? '--config' : name;
    const take = flag === '--config' ? (value: string) => (file = value) : flags[flag];
    if (!take) throw new CliError(`${command}: unexpected argument "${arg}"\n${usage}`);
    const value = inline ?? args[++i];
    if (!value) throw new CliError(`${flag} needs a value\n${usage}`);
    take(value);
  }
  return file;
}

function splitOnce(text: string, separator: string): [string, string] {
  const at = text.indexOf(separator);
  return [text.slice(0, at), text.slice(at + separator.length)];
}

/** `serve --workers N`, checked as `http.workers` is. */
function workersFlag(value: string): number {
  try {
    return parseWorkers(value);
  } catch (err) {
    throw new CliError(`--workers: ${(err as Error).message}\n${groupUsage(groupNamed('serve'))}`);
  }
}
