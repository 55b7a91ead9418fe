/**
 * runc as the agent uses it: always with the agent's own state directory (`runc --root
 * <root>/runc`) so containers of different agent roots never mix.
 */

import { runCommand, runCommandOk } from './command.js';
import type { AgentLayout } from './layout.js';

/** What `runc state` reports for a container that exists. */
export interface RuncState {
  id: string;
  pid: number;
  /** creating, created, running, paused or stopped. */
  status: string;
  bundle: string;
  /** RFC 3339, when runc created the container. */
  created: string;
}

/** The runc binary; a plain name found on PATH. */
export const RUNC = 'runc';

/** Global arguments every runc call of this agent root starts with. */
export function runcGlobalArgs(layout: AgentLayout): string[] {
  return ['--root', layout.runc];
}

/**
 * Arguments for `runc run` of the bundle `bundleDir` as `id`, in the foreground (runc waits for
 * the container and exits with its status), with runc's own log in `logFile`.
 */
export function runcRunArgs(layout: AgentLayout, id: string, bundleDir: string, logFile: string): string[] {
  return [
    ...runcGlobalArgs(layout),
    '--log',
    logFile,
    '--log-format',
    'json',
    'run',
    '--bundle',
    bundleDir,
    id,
  ];
}

/** The container's runc state, or undefined when runc does not know it (never started, or gone). */
export async function runcState(layout: AgentLayout, id: string): Promise<RuncState | undefined> {
  const result = await runCommand(RUNC, [...runcGlobalArgs(layout), 'state', id]);
  if (result.code !== 0) return undefined;
  return JSON.parse(result.stdout) as RuncState;
}

/** Every container runc knows under this root, in one call (for `ps`). */
export async function runcList(layout: AgentLayout): Promise<RuncState[]> {
  const result = await runCommand(RUNC, [...runcGlobalArgs(layout), 'list', '--format', 'json']);
  if (result.code !== 0) return [];
  return (JSON.parse(result.stdout || 'null') as RuncState[] | null) ?? [];
}

/** Sends `signal` (TERM, KILL, ...) to the container's init; false when it was not running. */
export async function runcKill(layout: AgentLayout, id: string, signal: string): Promise<boolean> {
  const result = await runCommand(RUNC, [...runcGlobalArgs(layout), 'kill', id, signal]);
  return result.code === 0;
}

/** Forgets a container (killing it first when still running); a missing one is fine. */
export async function runcDelete(layout: AgentLayout, id: string): Promise<void> {
  const result = await runCommand(RUNC, [...runcGlobalArgs(layout), 'delete', '--force', id]);
  if (result.code !== 0 && !/does not exist|not exist/.test(result.stderr)) {
    await runCommandOk(RUNC, [...runcGlobalArgs(layout), 'delete', '--force', id]);
  }
}

/** Arguments for `runc exec` of the process described by `processFile` in `id`. */
export function runcExecArgs(layout: AgentLayout, id: string, processFile: string): string[] {
  return [...runcGlobalArgs(layout), 'exec', '--process', processFile, id];
}

/** True for the runc statuses in which the container's processes exist. */
export function isLive(state: RuncState | undefined): boolean {
  return state !== undefined && state.status !== 'stopped';
}

/**
 * The exit code for a `runc run` that failed before the container's program ran, by Docker's
 * conventions: 127 when the program does not exist, 126 when it cannot be executed, 125 for
 * any other start failure. Undefined when runc's log shows no failure (the program ran).
 */
export function startFailureCode(runcLog: string): { code: number; message: string } | undefined {
  let message: string | undefined;
  for (const line of runcLog.split('\n')) {
    if (!line.trim()) continue;
    try {
      const entry = JSON.parse(line) as { level?: string; msg?: string };
      if (entry.level === 'error' || entry.level === 'fatal') message = entry.msg ?? 'runc failed';
    } catch {
      // runc writes only JSON lines with --log-format json; anything else is not ours to read.
    }
  }
  return message === undefined ? undefined : classifyStartFailure(message);
}

/** Docker's exit code for a runc failure message: 127 no such program, 126 not executable, else 125. */
export function classifyStartFailure(message: string): { code: number; message: string } {
  if (/executable file not found|no such file or directory/.test(message)) return { code: 127, message };
  if (/permission denied/.test(message)) return { code: 126, message };
  return { code: 125, message };
}

/**
 * runc checks that the program exists and may be executed before the container starts; an
 * exec the kernel refuses after that (argument list too long, exec format error) runc reports
 * only by printing `exec PATH: REASON` to the container's stderr and exiting 1, which looks
 * like a program that exited 1. When that line is all the container wrote, the program never
 * ran: 126, as a shell reports a command it found but could not execute.
 */
export function lateExecFailure(stderr: string): { code: number; message: string } | undefined {
  const match = /^exec [^\n]+: [a-z][a-z ]+\n$/.exec(stderr);
  return match ? { code: 126, message: stderr.trim() } : undefined;
}
