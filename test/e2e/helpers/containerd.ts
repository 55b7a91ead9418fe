/**
 * A private containerd daemon for end-to-end tests, so `ctr` can pull from Berth. Everything
 * lives in one temp directory (root, state, sockets, config); the machine's containerd, if
 * any, and /run/containerd, /var/lib/containerd and /opt/containerd are never touched.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { removeDir, tempDir } from '../../helpers/tmp.js';
import { containerdConfig, containerdPaths, SNAPSHOTTER } from './containerd-config.js';
import { type RunResult, run } from './run.js';

/** How a pull reaches the registry. */
export interface PullOptions {
  /** Sent as `--user name:password`; ctr would prompt on a terminal if the password were empty. */
  user?: { name: string; password: string };
  /**
   * `ctr images pull` (fetch, then unpack into snapshots) instead of `ctr content fetch`.
   * Unpacking mounts each snapshot, so it needs root; fetching does not.
   */
  unpack?: boolean;
  /**
   * Pass --plain-http (the default, as Berth serves plain HTTP in tests). Without it ctr 1.6
   * still uses plain HTTP for localhost and 127.0.0.1, and HTTPS for any other host.
   */
  plainHttp?: boolean;
}

/** A running private containerd daemon. */
export interface Containerd {
  /** The daemon's gRPC unix socket. */
  address: string;
  /** The daemon's log lines so far (warnings and errors only). */
  logs: string[];
  /** Runs `ctr --address ADDRESS ...args`, resolving whatever its exit code. */
  ctr(args: string[], options?: { env?: NodeJS.ProcessEnv }): Promise<RunResult>;
  /** Like ctr() but throws with the output unless ctr exits 0; resolves with stdout. */
  ctrOk(args: string[]): Promise<string>;
  /** Fetches (or pulls) `ref` from a registry, resolving whatever ctr's exit code. */
  pull(ref: string, options?: PullOptions): Promise<RunResult>;
  /** SIGTERM, SIGKILL after a grace period, then removes the temp directory. */
  stop(): Promise<void>;
}

// Unix socket paths longer than this fail to bind (sun_path is 108 bytes with its NUL).
const MAX_SOCKET_PATH = 107;
const READY_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 5_000;

/** The ctr flags that choose the registry protocol and credentials, in ctr's syntax. */
export function registryFlags(options: PullOptions = {}): string[] {
  const flags: string[] = [];
  if (options.plainHttp ?? true) flags.push('--plain-http');
  if (options.user) {
    // ctr splits at the first colon, so only the password may contain one.
    if (options.user.name.includes(':')) throw new Error('ctr cannot pass a user name with a colon');
    if (options.user.password === '') throw new Error('ctr prompts for an empty password');
    flags.push('--user', `${options.user.name}:${options.user.password}`);
  }
  return flags;
}

function waitForExit(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  // A spawn failure (no such binary) may emit only 'error', never 'exit'.
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', () => resolve());
  });
}

/** Starts a daemon in a fresh temp directory and waits until it answers `ctr version`. */
export async function startContainerd(): Promise<Containerd> {
  const dir = await tempDir('berth-containerd-');
  const paths = containerdPaths(dir);
  if (Buffer.byteLength(`${paths.address}.ttrpc`) > MAX_SOCKET_PATH) {
    await removeDir(dir);
    throw new Error(`socket path too long for a unix socket: ${paths.address} (set a shorter TMPDIR)`);
  }
  await writeFile(paths.config, containerdConfig(paths));

  const logs: string[] = [];
  // --log-level warn: at info the daemon logs every plugin it loads, which drowns real errors.
  const child = spawn('containerd', ['--config', paths.config, '--log-level', 'warn'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const collect = (data: Buffer) => logs.push(...data.toString().split('\n').filter(Boolean));
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });
  const exited = waitForExit(child);

  // If the test process dies before stop() runs, do not leave an orphaned daemon and its
  // files behind; only synchronous work is possible in an exit handler.
  const onProcessExit = () => {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  process.once('exit', onProcessExit);

  const ctr = (args: string[], options: { env?: NodeJS.ProcessEnv } = {}) =>
    run('ctr', ['--address', paths.address, '--connect-timeout', '5s', ...args], {
      // ctr picks the snapshotter from this variable; its built-in default is disabled here.
      env: { ...process.env, CONTAINERD_SNAPSHOTTER: SNAPSHOTTER, ...options.env },
    });

  let stopped: Promise<void> | undefined;
  const stop = () => {
    stopped ??= (async () => {
      child.kill('SIGTERM');
      // Cancel the grace timer once the daemon exits, or it would hold the test process open.
      const grace = new AbortController();
      const timedOut = await Promise.race([
        exited.then(() => false),
        sleep(STOP_GRACE_MS, true, { signal: grace.signal }),
      ]);
      grace.abort();
      if (timedOut) {
        child.kill('SIGKILL');
        await exited;
      }
      process.removeListener('exit', onProcessExit);
      await removeDir(dir);
    })();
    return stopped;
  };

  try {
    await waitUntilReady(ctr, () => spawnError ?? exitedEarly(child, logs));
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    address: paths.address,
    logs,
    ctr,
    async ctrOk(args) {
      const result = await ctr(args);
      if (result.code !== 0) {
        throw new Error(`ctr ${args.join(' ')} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
      }
      return result.stdout;
    },
    pull(ref, options = {}) {
      const command = options.unpack ? ['images', 'pull'] : ['content', 'fetch'];
      return ctr([...command, ...registryFlags(options), ref]);
    },
    stop,
  };
}

function exitedEarly(child: ChildProcess, logs: string[]): Error | undefined {
  if (child.exitCode === null && child.signalCode === null) return undefined;
  return new Error(
    `containerd exited (${child.exitCode ?? child.signalCode}) before answering:\n${logs.join('\n')}`,
  );
}

async function waitUntilReady(
  ctr: (args: string[]) => Promise<RunResult>,
  failure: () => Error | undefined,
): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last: RunResult | undefined;
  while (Date.now() < deadline) {
    const early = failure();
    if (early) {
      // ENOENT here means the package is missing; CI installs it, so say so rather than skip.
      if ((early as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new Error('containerd is not installed: apt-get install -y containerd');
      }
      throw early;
    }
    last = await ctr(['version']);
    if (last.code === 0) return;
    await sleep(20);
  }
  throw new Error(`containerd did not answer within ${READY_TIMEOUT_MS} ms:\n${last?.stderr ?? ''}`);
}
