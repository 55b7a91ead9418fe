/**
 * Child processes under test: spawn with captured output, stop gracefully (SIGTERM, then
 * SIGKILL), and make sure none outlives the harness.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';

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

/**
 * Spawns `command` with `args`; its output is kept (tail only) for error messages. With
 * `stdin: 'pipe'` the child's stdin stays open while the harness lives, so a child that cleans
 * up after itself can tell when the harness died without stopping it.
 */
export function spawnChild(
  command: string,
  args: readonly string[],
  cwd: string,
  env: NodeJS.ProcessEnv,
  stdin: 'ignore' | 'pipe' = 'ignore',
): ChildHandle {
  const child = spawn(command, args, { cwd, env, stdio: [stdin, 'pipe', 'pipe'] });
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

/** Kills every child still running (SIGKILL); safe to call from an 'exit' handler. */
export function killAllChildren(): void {
  for (const child of live) child.kill('SIGKILL');
  live.clear();
}

/** Flushes dirty pages to disk, so writeback left by one scenario does not slow the next. */
export function syncDisks(): void {
  execFileSync('sync');
}
