/** Runs external programs (skopeo, podman) and fails with their output when they fail. */
import { spawn } from 'node:child_process';

/** What a finished program left behind. */
export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `command args`, resolving whatever its exit code. */
export function run(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
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
export async function runOk(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<string> {
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
