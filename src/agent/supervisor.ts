/**
 * One container's whole run: network up, published ports, `runc run` (which waits for the
 * container), then ports closed, network down, cgroup leftovers removed and the exit code
 * written. The foreground agent calls it directly; `run -d` starts it in a detached process
 * (supervisor-main.ts) that outlives the agent, which is how a detached container keeps its
 * exit code (runc's own `run -d` loses it).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, createWriteStream, openSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { removeCgroups } from './cgroups.js';
import { delay, exitStatus } from './command.js';
import { containerFiles, loadContainer, writeExitCode } from './containers.js';
import type { AgentLayout } from './layout.js';
import { type NetworkLease, setupNetwork, teardownNetwork } from './network.js';
import { type PortProxy, startPortProxy } from './port-proxy.js';
import { lateExecFailure, RUNC, runcKill, runcRunArgs, runcState, startFailureCode } from './runc.js';

/** Somewhere to copy a container's output: process.stdout, or a test's collector. */
export interface OutputSink {
  write(chunk: Uint8Array | string): unknown;
}

/** How to supervise. */
export interface SuperviseOptions {
  /** Foreground: stream the output here as well as to the log files. */
  tee?: { stdout: OutputSink; stderr: OutputSink };
  /** Called once the container runs; never when runc exits before it does. */
  onStarted?: () => void;
  /** Pass SIGINT/SIGTERM sent to this process on to the container while it runs. */
  forwardSignals?: boolean;
}

/** How the container ended. */
export interface SuperviseResult {
  exitCode: number;
  /** Set when runc could not start the program (exit code 125, 126 or 127). */
  startError?: string;
}

/** Runs container `id` (already created) to its end; see the file comment. */
export async function superviseContainer(
  layout: AgentLayout,
  id: string,
  options: SuperviseOptions = {},
): Promise<SuperviseResult> {
  const record = await loadContainer(layout, id);
  if (!record) throw new Error(`no such container: ${id}`);
  const files = containerFiles(layout, id);
  let proxy: PortProxy | undefined;
  try {
    if (record.lease) await setupNetwork(record.lease);
    if (record.lease && record.options.ports.length > 0) {
      proxy = await startPortProxy(record.options.ports, record.lease.containerAddress);
    }
    const exitCode = await runRunc(layout, id, options);
    // runc exits 1 for a failed start (having printed why to the container's stderr); tell
    // that apart from a program that exited 1.
    const failure = exitCode === 1 ? await startFailure(files) : undefined;
    const result: SuperviseResult = failure
      ? { exitCode: failure.code, startError: failure.message }
      : { exitCode };
    await cleanUp(id, record.lease, proxy);
    proxy = undefined;
    // The container may have been removed (rm -f) meanwhile; then there is nowhere to write.
    await writeExitCode(layout, id, result.exitCode).catch(() => {});
    return result;
  } catch (error) {
    await cleanUp(id, record.lease, proxy);
    throw error;
  }
}

/** Why runc could not start the program, from its log or from what it left on stderr. */
async function startFailure(files: ReturnType<typeof containerFiles>) {
  const runcLog = await readFile(files.runcLog, 'utf8').catch(() => '');
  return startFailureCode(runcLog) ?? lateExecFailure(await readSmall(files.stderr));
}

/** A file's text when it is at most `limit` bytes (a container's stderr may be huge), else ''. */
async function readSmall(file: string, limit = 4096): Promise<string> {
  const info = await stat(file).catch(() => undefined);
  if (!info || info.size > limit) return '';
  return readFile(file, 'utf8').catch(() => '');
}

async function cleanUp(id: string, lease: NetworkLease | undefined, proxy: PortProxy | undefined) {
  await proxy?.close();
  if (lease) await teardownNetwork(lease);
  await removeCgroups(id);
}

async function runRunc(layout: AgentLayout, id: string, options: SuperviseOptions): Promise<number> {
  const files = containerFiles(layout, id);
  const args = runcRunArgs(layout, id, files.dir, files.runcLog);
  const child = options.tee
    ? spawn(RUNC, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    : // Detached: runc writes the log files itself, so the output is kept even if the
      // supervisor dies.
      spawnToFiles(args, files.stdout, files.stderr);
  const exited = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  let flushed: Promise<unknown> = Promise.resolve();
  if (options.tee && child.stdout && child.stderr) {
    const logs = [
      createWriteStream(files.stdout, { flags: 'a' }),
      createWriteStream(files.stderr, { flags: 'a' }),
    ];
    const sinks = [options.tee.stdout, options.tee.stderr];
    [child.stdout, child.stderr].forEach((stream, n) => {
      stream.on('data', (chunk: Buffer) => {
        logs[n]?.write(chunk);
        sinks[n]?.write(chunk);
      });
    });
    const endLogs = () => Promise.all(logs.map((log) => new Promise((resolve) => log.end(resolve))));
    flushed = exited.then(endLogs, endLogs);
  }
  const forward = (signal: NodeJS.Signals) => void runcKill(layout, id, signal);
  if (options.forwardSignals) {
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
  }
  try {
    if (options.onStarted) await waitUntilStarted(layout, id, exited, options.onStarted);
    const [code, signal] = await exited;
    await flushed;
    return exitStatus(code, signal);
  } finally {
    process.off('SIGINT', forward);
    process.off('SIGTERM', forward);
  }
}

function spawnToFiles(args: string[], stdoutFile: string, stderrFile: string) {
  const out = openSync(stdoutFile, 'a');
  const err = openSync(stderrFile, 'a');
  try {
    return spawn(RUNC, args, { stdio: ['ignore', out, err] });
  } finally {
    // The child has its own copies of the descriptors now.
    closeSync(out);
    closeSync(err);
  }
}

/**
 * Calls `started` once runc reports the container running. Not when runc exits first: then
 * the program never ran or already ended, and the caller learns which from the result.
 */
async function waitUntilStarted(
  layout: AgentLayout,
  id: string,
  exited: Promise<unknown>,
  started: () => void,
): Promise<void> {
  let done = false;
  const finish = () => {
    done = true;
  };
  exited.then(finish, finish);
  while (!done) {
    const state = await runcState(layout, id);
    if (state?.status === 'running' || state?.status === 'paused') {
      started();
      return;
    }
    await Promise.race([exited, delay(10)]);
  }
}
