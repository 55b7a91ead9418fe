/**
 * `berth agent ...`: the runtime agent's command line. Parses arguments and hands each command
 * to the module that does the work; state lives under `--root` (or BERTH_AGENT_ROOT).
 */
import { CliError, type CliIo, type ParsedArgs, parseCommandArgs } from '../cli/io.js';
import { askCredentials, credentialFlags, pullFlags, pullOptions, runPullFlags } from './cli-flags.js';
import {
  AGENT_USAGE,
  type AgentCommand,
  asksForHelp,
  commandHelp,
  commandSynopsis,
  isAgentCommand,
  isHelpFlag,
  unknownCommand,
} from './cli-usage.js';
import { checkLogin, removeCredentials, saveCredentials } from './credentials.js';
import { execInContainer, parseExecArgs } from './exec.js';
import { inspectImage, listImagesTable, removeImage } from './image-commands.js';
import { ensureImage, imageSnapshot } from './images.js';
import { agentLayout, DEFAULT_AGENT_ROOT } from './layout.js';
import { removeContainer, stopContainer } from './lifecycle.js';
import { containerLogs } from './logs.js';
import { createProgressDisplay, humanSize } from './progress.js';
import { pruneAll } from './prune.js';
import { formatContainerTable, listContainers } from './ps.js';
import { pullImage } from './pull.js';
import { canonicalHost, isPlainHttpByDefault } from './reference.js';
import { runContainer } from './run.js';
import { parseRunArgs } from './run-options.js';
import { openStore } from './store.js';
import { createVolume, listVolumes, removeVolume } from './volumes.js';

/** Docker's exit code for a `run` that failed before the container's program ran. */
const START_FAILED = 125;

/** Runs `berth agent args`; resolves with the exit code. */
export async function agentCommand(args: string[], io: CliIo): Promise<number> {
  const { root, rest } = rootOption(args, io.env);
  const [command, ...argv] = rest;
  if (command === undefined || isHelpFlag(command) || command === 'help') return help(argv[0], io, command);
  if (!isAgentCommand(command)) throw unknownCommand(command);
  if (asksForHelp(command, argv)) {
    io.stdout.write(commandHelp(command));
    return 0;
  }
  try {
    return await COMMANDS[command](argv, { io, root, layout: agentLayout(root) });
  } catch (err) {
    throw userFacing(err, io.env, command === 'run' ? START_FAILED : 1);
  }
}

/** `berth agent [help [COMMAND]]`: the overview, or one command's help. */
function help(topic: string | undefined, io: CliIo, asked: string | undefined): number {
  if (topic !== undefined && asked === 'help') {
    if (!isAgentCommand(topic)) throw unknownCommand(topic);
    io.stdout.write(commandHelp(topic));
    return 0;
  }
  io.stdout.write(AGENT_USAGE);
  return asked === undefined ? 1 : 0;
}

/**
 * The agent's modules throw errors whose messages are written for the user (a missing
 * container, a refused flag, a registry's answer); a stack trace adds nothing for them.
 * `exitCode` replaces the usage-error code 1 (for `run`, docker's 125).
 */
function userFacing(err: unknown, env: NodeJS.ProcessEnv, exitCode: number): unknown {
  if (!(err instanceof Error)) return err;
  if (err instanceof CliError && err.exitCode !== 1) return err;
  return new CliError(
    env.BERTH_DEBUG && !(err instanceof CliError) ? String(err.stack) : err.message,
    exitCode,
  );
}

interface Context {
  io: CliIo;
  root: string;
  layout: ReturnType<typeof agentLayout>;
}

type Handler = (argv: string[], context: Context) => Promise<number>;

const COMMANDS: Record<AgentCommand, Handler> = {
  async pull(argv, { io, root }) {
    const usage = commandSynopsis('pull');
    const parsed = parseCommandArgs(argv, pullFlags, usage);
    const reference = single(parsed, usage);
    const store = await openStore(root);
    const display = createProgressDisplay(io.stderr as typeof io.stderr & { isTTY?: boolean });
    try {
      const record = await pullImage(store, reference, {
        ...(await pullOptions(parsed, io)),
        onProgress: display.onProgress,
      });
      display.close();
      io.stdout.write(`${record.reference}@${record.manifestDigest}\n`);
      return 0;
    } catch (err) {
      display.close();
      throw new CliError(`pull ${reference}: ${(err as Error).message}`);
    }
  },

  async login(argv, { io, root }) {
    const usage = commandSynopsis('login');
    const parsed = parseCommandArgs(argv, { ...credentialFlags, 'plain-http': { type: 'boolean' } }, usage);
    const host = canonicalHost(single(parsed, usage));
    const credentials = await askCredentials(parsed, io, true);
    if (!credentials) throw new CliError(usage);
    const plainHttp = parsed.values['plain-http'] === true || isPlainHttpByDefault(host);
    await checkLogin(host, credentials, plainHttp).catch((err: Error) => {
      throw new CliError(`login to ${host} failed: ${err.message}`);
    });
    await saveCredentials(root, host, credentials);
    io.stdout.write(`Login Succeeded (${host})\n`);
    return 0;
  },

  async logout(argv, { io, root }) {
    const usage = commandSynopsis('logout');
    const host = canonicalHost(single(parseCommandArgs(argv, {}, usage), usage));
    const removed = await removeCredentials(root, host);
    io.stdout.write(removed ? `Removed login for ${host}\n` : `Not logged in to ${host}\n`);
    return 0;
  },

  async images(argv, { io, root }) {
    parseCommandArgs(argv, {}, commandSynopsis('images'));
    await listImagesTable(await openStore(root), io.stdout, io.now());
    return 0;
  },

  async rmi(argv, { io, root }) {
    const usage = commandSynopsis('rmi');
    const parsed = parseCommandArgs(argv, {}, usage);
    if (parsed.positionals.length === 0) throw new CliError(usage);
    const store = await openStore(root);
    for (const reference of parsed.positionals) {
      for (const record of await removeImage(store, reference))
        io.stdout.write(`Untagged: ${record.reference}\n`);
    }
    return 0;
  },

  async inspect(argv, { io, root }) {
    const usage = commandSynopsis('inspect');
    await inspectImage(await openStore(root), single(parseCommandArgs(argv, {}, usage), usage), io.stdout);
    return 0;
  },

  async run(argv, { io, root, layout }) {
    const { pull, platform, plainHttp, rest } = runPullFlags(argv);
    const { options, image, command } = parseRunArgs(rest);
    const store = await openStore(root);
    const display = createProgressDisplay(io.stderr as typeof io.stderr & { isTTY?: boolean });
    const record = await ensureImage(store, image, pull, {
      ...(platform ? { platform } : {}),
      ...(plainHttp ? { plainHttp } : {}),
      onProgress: display.onProgress,
    }).finally(() => display.close());
    const snapshot = await imageSnapshot(store, record);
    for (const warning of snapshot.warnings) io.stderr.write(`warning: ${warning}\n`);
    const result = await runContainer(
      layout,
      { rootfs: snapshot.rootfs, imageConfig: snapshot.config, imageRef: record.reference, options, command },
      { stdout: io.stdout as never, stderr: io.stderr as never, env: io.env },
    );
    if (options.detach) {
      if (result.startError) io.stderr.write(`berth: ${result.startError}\n`);
      else io.stdout.write(`${result.id}\n`);
    }
    return result.exitCode ?? 0;
  },

  async ps(argv, { io, layout }) {
    const parsed = parseCommandArgs(argv, { all: { type: 'boolean', short: 'a' } }, commandSynopsis('ps'));
    const rows = await listContainers(layout, { all: parsed.values.all === true });
    io.stdout.write(formatContainerTable(rows, io.now()));
    return 0;
  },

  async logs(argv, { io, layout }) {
    const usage = commandSynopsis('logs');
    const parsed = parseCommandArgs(argv, { follow: { type: 'boolean', short: 'f' } }, usage);
    await containerLogs(
      layout,
      single(parsed, usage),
      { follow: parsed.values.follow === true },
      {
        stdout: io.stdout as never,
        stderr: io.stderr as never,
      },
    );
    return 0;
  },

  async stop(argv, { io, layout }) {
    const usage = commandSynopsis('stop');
    const parsed = parseCommandArgs(argv, { time: { type: 'string', short: 't' } }, usage);
    const seconds = parsed.values.time === undefined ? 10 : Number(parsed.values.time);
    if (!Number.isInteger(seconds) || seconds < 0) throw new CliError(`-t: expected whole seconds\n${usage}`);
    if (parsed.positionals.length === 0) throw new CliError(usage);
    for (const ref of parsed.positionals) {
      const record = await stopContainer(layout, ref, seconds);
      io.stdout.write(`${record.name}\n`);
    }
    return 0;
  },

  async rm(argv, { io, layout }) {
    const usage = commandSynopsis('rm');
    const parsed = parseCommandArgs(argv, { force: { type: 'boolean', short: 'f' } }, usage);
    if (parsed.positionals.length === 0) throw new CliError(usage);
    for (const ref of parsed.positionals) {
      io.stdout.write(`${await removeContainer(layout, ref, { force: parsed.values.force === true })}\n`);
    }
    return 0;
  },

  async exec(argv, { io, layout }) {
    const { container, command, options } = parseExecArgs(argv);
    return execInContainer(layout, container, command, options, {
      stdout: io.stdout as never,
      stderr: io.stderr as never,
    });
  },

  async volume(argv, { io, layout }) {
    const usage = commandSynopsis('volume');
    const [sub, ...names] = argv;
    if (sub === 'ls' && names.length === 0) {
      for (const name of await listVolumes(layout)) io.stdout.write(`${name}\n`);
      return 0;
    }
    if (sub === 'create' && names.length === 1) {
      await createVolume(layout, names[0] as string);
      io.stdout.write(`${names[0]}\n`);
      return 0;
    }
    if (sub === 'rm' && names.length > 0) {
      for (const name of names) {
        await removeVolume(layout, name);
        io.stdout.write(`${name}\n`);
      }
      return 0;
    }
    throw new CliError(usage);
  },

  async prune(argv, { io, root }) {
    parseCommandArgs(argv, {}, commandSynopsis('prune'));
    const report = await pruneAll(await openStore(root));
    io.stdout.write(
      `removed ${report.containers.length} containers, ${report.images.length} images, ` +
        `${report.snapshots} snapshots, ${report.blobs} blobs (${humanSize(report.bytes)})\n`,
    );
    if (report.blobsKept)
      io.stdout.write('a pull is in progress: blobs were left alone; prune again later\n');
    return 0;
  },
};

function rootOption(args: string[], env: NodeJS.ProcessEnv): { root: string; rest: string[] } {
  let root = env.BERTH_AGENT_ROOT || DEFAULT_AGENT_ROOT;
  const rest = [...args];
  while (rest[0] === '--root' || rest[0]?.startsWith('--root=')) {
    const arg = rest.shift() as string;
    const value = arg === '--root' ? rest.shift() : arg.slice('--root='.length);
    if (!value) throw new CliError('--root needs a directory');
    root = value;
  }
  return { root, rest };
}

function single(parsed: ParsedArgs, usage: string): string {
  const [first, ...extra] = parsed.positionals;
  if (!first || extra.length > 0) throw new CliError(usage);
  return first;
}
