/**
 * The help of `berth agent`: the overview (`berth agent --help`), each command's usage
 * (`berth agent COMMAND --help`, `berth agent help COMMAND`), and how a command line asks for
 * them. A command's first line (its synopsis) is also what a usage error repeats.
 */
import { CliError } from '../cli/io.js';
import { didYouMean } from '../text/nearest.js';
import { runArgTakesValue } from './cli-flags.js';
import { DEFAULT_AGENT_ROOT } from './layout.js';

/** What `berth agent --help` prints. */
export const AGENT_USAGE = `Usage: berth agent [--root DIR] <command>

Pulls images from a registry and runs them as containers with runc.
State lives in DIR (default ${DEFAULT_AGENT_ROOT}, or BERTH_AGENT_ROOT).

Commands:
  pull      Pull an image into the agent's store.
  login     Save credentials for a registry.
  logout    Forget the credentials for a registry.
  images    List pulled images.
  rmi       Remove images (their blobs go with prune).
  inspect   Print an image's record and config as JSON.
  run       Run a container (pulling the image when missing).
  ps        List containers.
  logs      Print (and follow) a container's output.
  stop      Stop containers: their stop signal, then KILL.
  rm        Remove containers.
  exec      Run a command in a running container.
  volume    Create, list and remove named volumes.
  prune     Remove stopped containers, unused images and blobs.

Run 'berth agent COMMAND --help' for a command's options.
`;

/** A command's synopsis (after `berth agent `) and the rest of its help. */
interface CommandUsage {
  synopsis: string;
  details: string;
}

const COMMANDS = {
  pull: {
    synopsis: 'pull [--platform OS/ARCH[/VARIANT]] [--plain-http] [--username U [--password-stdin]] REF',
    details: `Pulls REF (such as localhost:5000/team/app:1.0) into the agent's store, picking the
host's platform from an index.

Options:
  --platform OS/ARCH[/VARIANT]  Pick this platform from an index instead of the host's.
  --plain-http                  Use HTTP, not HTTPS (localhost registries always do).
  -u, --username U              Log in as U; the password is asked for, or read from
  --password-stdin              standard input with --password-stdin.`,
  },
  login: {
    synopsis: 'login [--username U] [--password-stdin] [--plain-http] HOST',
    details: `Checks the credentials against the registry at HOST, then saves them for later pulls.`,
  },
  logout: { synopsis: 'logout HOST', details: 'Removes the saved credentials for HOST.' },
  images: { synopsis: 'images', details: 'Lists pulled images.' },
  rmi: { synopsis: 'rmi REF|ID...', details: 'Removes image records; their blobs go with prune.' },
  inspect: { synopsis: 'inspect REF|ID', details: "Prints an image's record and config as JSON." },
  run: {
    synopsis: 'run [OPTIONS] IMAGE [COMMAND [ARG...]]',
    details: `Creates a container from IMAGE and runs it with runc. In the foreground the agent
exits with the container's exit code; 125 when the agent could not start it (bad flag,
missing image, unknown user, no command), 126 when the command cannot be executed,
127 when it does not exist.

Options:
  -d, --detach               Run in the background and print the container id.
  --name N                   Name the container.
  -e, --env K=V|K            Set a variable (a bare K takes the agent's value).
  --env-file F               Read K=V lines from F.
  -v, --volume SRC:DST[:ro]  Mount a host directory or a named volume.
  -p, --publish HOST:CTR     Publish a TCP port on 127.0.0.1:HOST.
  -u, --user USER[:GROUP]    Run as this user (names from the image's /etc/passwd).
  --cap-add CAP, --cap-drop CAP|ALL
                             Change the capability set.
  --read-only                Mount the container's root read-only.
  -m, --memory SIZE          Memory limit, such as 64m.
  --pids-limit N             Process limit.
  --network none|host|bridge Network (default bridge).
  -w, --workdir DIR          Working directory inside the container.
  --entrypoint CMD           Replace the image's Entrypoint ("" clears it).
  --rm                       Remove the container when it exits.
  -h, --hostname NAME        The container's hostname.
  --pull missing|always|never
                             When to pull IMAGE (default missing).
  --platform OS/ARCH         Platform to pull.
  --plain-http               Pull over HTTP.`,
  },
  ps: { synopsis: 'ps [-a]', details: 'Lists running containers; -a lists stopped ones too.' },
  logs: { synopsis: 'logs [-f] ID', details: "Prints a container's output; -f follows it." },
  stop: {
    synopsis: 'stop [-t SECONDS] ID...',
    details: 'Sends each container its stop signal (default TERM), then KILL after -t seconds (default 10).',
  },
  rm: { synopsis: 'rm [-f] ID...', details: 'Removes stopped containers; -f removes running ones too.' },
  exec: {
    synopsis: 'exec [-e K=V] [-u USER[:GROUP]] [-w DIR] ID COMMAND [ARG...]',
    details: `Runs COMMAND in the running container ID and exits with its exit code (126 or 127
when it cannot be executed or does not exist).`,
  },
  volume: {
    synopsis: 'volume create NAME | ls | rm NAME...',
    details: 'Creates, lists or removes named volumes; one in use cannot be removed.',
  },
  prune: {
    synopsis: 'prune',
    details: 'Removes stopped containers, then images no container uses, their snapshots and blobs.',
  },
} satisfies Record<string, CommandUsage>;

/** A command of `berth agent`. */
export type AgentCommand = keyof typeof COMMANDS;

/** Whether `name` is one of the agent's commands. */
export function isAgentCommand(name: string): name is AgentCommand {
  return Object.hasOwn(COMMANDS, name);
}

/** The agent's command names. */
export const AGENT_COMMANDS = Object.keys(COMMANDS) as AgentCommand[];

/** The full help of `command`: its synopsis and details. */
export function commandHelp(command: AgentCommand): string {
  const usage: CommandUsage = COMMANDS[command];
  return `Usage: berth agent ${usage.synopsis}\n\n${usage.details}\n`;
}

/** The usage a usage error of `command` repeats: the synopsis and where to read more. */
export function commandSynopsis(command: AgentCommand): string {
  const usage: CommandUsage = COMMANDS[command];
  return `usage: berth agent ${usage.synopsis}\nRun 'berth agent ${command} --help' for more.`;
}

/** The error for an unknown command, suggesting the nearest one. */
export function unknownCommand(command: string): CliError {
  const hint = didYouMean(command, AGENT_COMMANDS, 2);
  return new CliError(`agent: unknown command "${command}"${hint}\nRun 'berth agent --help' for the list.`);
}

/**
 * Whether the command's arguments ask for its help. For `run` and `exec` only flags before the
 * image or container count: after it, `--help` belongs to the container's command. `-h` is
 * `--hostname` for `run`, as in docker.
 */
export function asksForHelp(command: AgentCommand, argv: string[]): boolean {
  if (command !== 'run' && command !== 'exec') return argv.some(isHelpFlag);
  const takesValue = command === 'run' ? runArgTakesValue : () => true;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || (arg === '-h' && command === 'exec')) return true;
    if (arg === '--' || !arg.startsWith('-')) return false;
    if (takesValue(arg)) i++;
  }
  return false;
}

/** `-h` or `--help`. */
export function isHelpFlag(arg: string): boolean {
  return arg === '-h' || arg === '--help';
}
