/** Runs external programs (skopeo, podman) and fails with their output when they fail. */
import { spawn } from 'node:child_process';

/** What a finished program left behind. */
export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** How to run a program. */
export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Written to standard input, which is then closed (at once when there is no input). */
  input?: string;
}

/** Runs `command args`, resolving whatever its exit code. */
export function run(command: string, args: string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: 'pipe',
    });
    // Passwords go in this way (--password-stdin) so they never show up in `ps`. A program
    // that exits without reading its input would otherwise crash the test with EPIPE.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (data: Buffer) => {
      stdout += data.toString();
    });
    child.stderr.on('data', (data: Buffer) => {
      stderr += data.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs `command args` and throws with its output unless it exits 0. */
export async function runOk(command: string, args: string[], options: RunOptions = {}): Promise<string> {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.code}\n${result.stdout}\n${result.stderr}`);
  }
  return result.stdout;
}

/**
 * Options that give podman or buildah a container storage of its own under `dir` (vfs, so it
 * needs no kernel overlay support), leaving the machine's storage alone.
 */
export function privateStorage(dir: string): string[] {
  return ['--root', `${dir}/storage`, '--runroot', `${dir}/run`, '--storage-driver', 'vfs'];
}
