/**
 * Child processes under test: spawn with captured output, stop gracefully (SIGTERM, then
 * SIGKILL), read peak RSS from /proc, and make sure none outlives the harness.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';

/** A spawned child process. */
export interface ChildHandle {
  pid: number;
  /** The last few KiB of its stdout and stderr, interleaved. */
  output(): string;
  /** How it exited, or undefined while it runs. */
  exitStatus(): string | undefined;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves with how it exited. */
  stop(graceMs?: number): Promise<string>;
}

const OUTPUT_LIMIT = 16 * 1024;
const live = new Set<ChildProcess>();

/** Spawns `command` with `args`; its output is kept (tail only) for error messages. */
export function spawnChild(
  command: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
): ChildHandle {
  const child = spawn(command, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  live.add(child);
  let output = '';
  const keep = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    if (output.length > OUTPUT_LIMIT) output = output.slice(-OUTPUT_LIMIT);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let status: string | undefined;
  const exited = new Promise<string>((resolve) => {
    child.on('exit', (code, signal) => {
      live.delete(child);
      status = signal ? `killed by ${signal}` : `exit code ${code}`;
      resolve(status);
    });
  });
  child.on('error', (error) => {
    status = `failed: ${error.message}`;
  });
  const pid = child.pid;
  return {
    pid,
    output: () => output,
    exitStatus: () => status,
    async stop(graceMs = 15_000) {
      if (status !== undefined) return status;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      const result = await exited;
      clearTimeout(timer);
      return result;
    },
  };
}

/** Peak resident set size (VmHWM) of process `pid` in MiB. */
export function peakRssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmHWM:\s+(\d+)\s+kB$/m.exec(status);
  if (!match) throw new Error(`no VmHWM line in /proc/${pid}/status`);
  return Number(match[1]) / 1024;
}

/** Kills every child still running (SIGKILL); safe to call from an 'exit' handler. */
export function killAllChildren(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

/** CPU time (user + system) process `pid` has used so far, in seconds (USER_HZ is 100 on Linux). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Flushes dirty pages to disk, so writeback left by one scenario does not slow the next. */
export function syncDisks(): void {
  execFileSync('sync');
}
