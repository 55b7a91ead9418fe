/**
 * `berth agent run`: create a container from an unpacked image and run it, in the foreground
 * (output streamed, exit code returned) or detached (a supervisor process keeps it).
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type CreateRequest, createContainer } from './bundle.js';
import { containerFiles } from './containers.js';
import type { AgentLayout } from './layout.js';
import { removeContainer } from './lifecycle.js';
import { type OutputSink, superviseContainer } from './supervisor.js';
import type { SupervisorMessage } from './supervisor-main.js';

/** Where a foreground container's output goes, and the environment for bare `-e NAME`. */
export interface RunIo {
  stdout: OutputSink;
  stderr: OutputSink;
  env: Record<string, string | undefined>;
}

/** What `runContainer` reports. */
export interface RunResult {
  id: string;
  name: string;
  /** The container's exit code (foreground only; a detached container is still running). */
  exitCode?: number;
  /**
   * Why runc could not start the program (missing or not executable, bad mount...): then the
   * exit code is 125, 126 or 127 and the CLI should print this and exit with that code.
   */
  startError?: string;
}

const SUPERVISOR_SCRIPT = fileURLToPath(new URL('./supervisor-main.js', import.meta.url));

/**
 * Creates and runs a container. Foreground: streams its output to `io`, forwards SIGINT and
 * SIGTERM to it, and resolves with its exit code (125/126/127 when it could not start, as in
 * Docker); with `--rm` it is removed afterwards. Detached: resolves with the id once it runs.
 */
export async function runContainer(
  layout: AgentLayout,
  request: CreateRequest,
  io: RunIo,
): Promise<RunResult> {
  const record = await createContainer(layout, request, io.env);
  const { id, name } = record;
  if (request.options.detach) {
    const startError = await startSupervisor(layout, id);
    return startError ? { id, name, ...startError } : { id, name };
  }
  try {
    const result = await superviseContainer(layout, id, { tee: io, forwardSignals: true });
    return { id, name, ...result };
  } finally {
    if (request.options.remove) await removeContainer(layout, id, { force: true });
  }
}

/**
 * Starts the detached supervisor of `id` and waits until it reports the container running.
 * Returns the start failure when runc could not start the program; throws when the
 * supervisor itself failed (a published port in use, say).
 */
async function startSupervisor(
  layout: AgentLayout,
  id: string,
): Promise<{ exitCode: number; startError: string } | undefined> {
  const log = openSync(containerFiles(layout, id).supervisorLog, 'a');
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(process.execPath, [SUPERVISOR_SCRIPT, layout.root, id], {
      detached: true,
      stdio: ['ignore', log, log, 'ipc'],
    });
  } finally {
    closeSync(log);
  }
  const message = await new Promise<SupervisorMessage>((resolve) => {
    child.once('message', (value) => resolve(value as SupervisorMessage));
    child.once('error', (error) => resolve({ type: 'error', message: error.message }));
    // A message sent just before exiting can be read after the exit is seen: give it a moment.
    child.once('exit', (code) => {
      setTimeout(() => resolve({ type: 'error', message: `the supervisor exited (${code}) early` }), 100);
    });
  });
  child.unref();
  if (child.connected) child.disconnect();
  if (message.type === 'error')
    throw new Error(`container ${id.slice(0, 12)} did not start: ${message.message}`);
  if (message.type === 'exited' && message.startError) {
    return { exitCode: message.exitCode, startError: message.startError };
  }
  return undefined;
}
