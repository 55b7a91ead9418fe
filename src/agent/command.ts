/**
 * Small child-process helpers for the runtime: runc, ip, mount and cp are all driven as
 * commands, because Node has no bindings for namespaces, mounts or netlink.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:os';

/** What a finished command left behind. */
export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `command args` with stdin from `input` (or /dev/null) and collects its output.
 * A signal death is reported as 128 + the signal number, like a shell does.
 */
export function runCommand(command: string, args: string[], input?: string): Promise<CommandResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    if (child.stdin) {
      // A command that exits before reading its input must not crash the agent with EPIPE.
      child.stdin.on('error', () => {});
      child.stdin.end(input);
    }
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code: exitStatus(code, signal), stdout, stderr }));
  });
}

/** Runs a command and throws an error carrying its stderr unless it exits 0. */
export async function runCommandOk(command: string, args: string[], input?: string): Promise<string> {
  const result = await runCommand(command, args, input);
  if (result.code !== 0) {
    const detail = result.stderr.trim() || result.stdout.trim() || `exit code ${result.code}`;
    throw new Error(`${command} ${args.join(' ')}: ${detail}`);
  }
  return result.stdout;
}

/** The shell convention for a child's status: its exit code, or 128 + signal number. */
export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  return 128 + (signal ? constants.signals[signal] : 0);
}

/** Resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
