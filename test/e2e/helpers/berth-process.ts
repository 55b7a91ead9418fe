/**
 * Berth as a real process for end-to-end tests: `./bin/berth serve` on a free loopback port
 * with its own data directory, its log lines collected, its peak memory readable.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { removeDir, tempDir } from '../../helpers/tmp.js';

/** The checkout's root directory. */
export const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

/** The `berth` command of the checkout. */
export const BERTH_BIN = `${REPO_ROOT}bin/berth`;

/** An environment for `berth` commands: PATH and HOME, and no BERTH_* from the test runner. */
export const CLI_ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/root' };

/** A running Berth process. */
export interface BerthProcess {
  url: string;
  /** `host:port`, as clients name the registry. */
  host: string;
  root: string;
  child: ChildProcess;
  logs: string[];
  /** Peak resident set size so far (VmHWM), in bytes. */
  peakRss(): Promise<number>;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** Waits for the process to exit on its own; resolves with the exit code. */
  exited(): Promise<number | null>;
  /** SIGKILL and wait. */
  kill(): Promise<void>;
  /** Stops the process (if running) and removes its data directory. */
  close(): Promise<void>;
}

/**
 * Starts `berth serve` with extra arguments and BERTH_* environment, an optional existing data
 * root and, when given, as another user (`uid`, `gid`; the data root must be theirs).
 */
export async function startBerthProcess(
  options: { args?: string[]; env?: Record<string, string>; root?: string; uid?: number; gid?: number } = {},
): Promise<BerthProcess> {
  const root = options.root ?? (await tempDir('berth-e2e-'));
  const child = spawn(BERTH_BIN, ['serve', ...(options.args ?? [])], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/root',
      BERTH_HTTP_ADDR: '127.0.0.1:0',
      BERTH_STORAGE_FILESYSTEM_ROOTDIRECTORY: root,
      BERTH_HTTP_DRAINTIMEOUT: '10s',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.gid ?? options.uid }),
  });
  const logs: string[] = [];
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let buffered = '';
    const onData = (data: Buffer) => {
      buffered += data.toString();
      let newline = buffered.indexOf('\n');
      while (newline >= 0) {
        const line = buffered.slice(0, newline);
        buffered = buffered.slice(newline + 1);
        logs.push(line);
        const match = /listening on (http:\/\/[^,\s]+)/.exec(line);
        if (match) resolve(match[1] as string);
        newline = buffered.indexOf('\n');
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (data: Buffer) => logs.push(data.toString()));
    child.once('exit', (code) =>
      reject(new Error(`berth exited with ${code} before listening:\n${logs.join('\n')}`)),
    );
  });
  let running = true;
  void exited.then(() => {
    running = false;
  });
  return {
    url,
    host: url.replace('http://', ''),
    root,
    child,
    logs,
    async peakRss() {
      const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
      const kib = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1]);
      return kib * 1024;
    },
    async stop() {
      if (running) child.kill('SIGTERM');
      return exited;
    },
    exited: () => exited,
    async kill() {
      if (running) child.kill('SIGKILL');
      await exited;
    },
    async close() {
      if (running) child.kill('SIGTERM');
      await exited;
      await removeDir(root);
    },
  };
}

/** The log lines of requests that ended in a 5xx and of errors Berth logged. */
export function serverErrors(logs: string[]): string[] {
  return logs.filter((line) => /"status":5\d\d/.test(line) || /"level":"error"/.test(line));
}
