/**
 * `berth agent logs [-f]`: a container's stdout.log and stderr.log, each to its own stream.
 * Following polls the files, because the writer is runc or a supervisor in another process.
 */
import { open } from 'node:fs/promises';
import { delay } from './command.js';
import { containerFiles, containerStatus, findContainer } from './containers.js';
import type { AgentLayout } from './layout.js';
import type { OutputSink } from './supervisor.js';

/** How to show logs. */
export interface LogsOptions {
  /** Keep printing new output until the container exits. */
  follow?: boolean;
  /** Poll interval while following, in milliseconds. */
  pollMs?: number;
}

/**
 * Copies the container's logs to `io` (stdout.log to stdout, stderr.log to stderr). With
 * `follow`, keeps copying what is appended until the container has exited, then returns.
 */
export async function containerLogs(
  layout: AgentLayout,
  ref: string,
  options: LogsOptions,
  io: { stdout: OutputSink; stderr: OutputSink },
): Promise<void> {
  const { id } = await findContainer(layout, ref);
  const files = containerFiles(layout, id);
  const offsets = [0, 0];
  const targets = [
    { file: files.stdout, sink: io.stdout },
    { file: files.stderr, sink: io.stderr },
  ];
  const copyNew = async () => {
    for (const [n, target] of targets.entries()) {
      offsets[n] = await copyFrom(target.file, offsets[n] ?? 0, target.sink);
    }
  };
  for (;;) {
    // Status first, then copy: whatever was written before the exit is then always copied.
    const state = options.follow ? (await containerStatus(layout, id)).state : 'exited';
    const running = state === 'running' || state === 'paused';
    await copyNew();
    if (!running) return;
    await delay(options.pollMs ?? 100);
  }
}

/** Writes `file` from `offset` to its current end into `sink`; returns the new offset. */
async function copyFrom(file: string, offset: number, sink: OutputSink): Promise<number> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, 'r');
  } catch {
    return offset;
  }
  try {
    let position = offset;
    const buffer = Buffer.alloc(64 * 1024);
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
      if (bytesRead === 0) return position;
      sink.write(Buffer.from(buffer.subarray(0, bytesRead)));
      position += bytesRead;
    }
  } finally {
    await handle.close();
  }
}
