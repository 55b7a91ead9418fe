/**
 * What the cluster primary and its workers tell each other over the IPC channel. A worker asks
 * for its configuration once it listens for messages (a message sent earlier would be lost),
 * reports that it listens or why it could not start, and relays /metrics requests; the primary
 * passes signals on as messages, so that a worker that also got the signal itself (Ctrl-C
 * reaches the whole process group) does not take the second copy for "stop now".
 */
import type { Worker } from 'node:cluster';
import type { BerthConfig } from '../config/schema.js';
import type { Fields } from '../log/logger.js';

/** From a worker to the primary. */
export type WorkerMessage =
  | { type: 'berth:ready' }
  | { type: 'berth:listening'; message: string; fields: Fields }
  | { type: 'berth:failed'; message: string; exitCode: number }
  | { type: 'berth:metrics-request'; id: number }
  | { type: 'berth:metrics-part'; id: number; metrics: object[] };

/** From the primary to a worker. */
export type PrimaryMessage =
  | { type: 'berth:start'; config: BerthConfig }
  | { type: 'berth:stop'; signal: NodeJS.Signals }
  | { type: 'berth:stop-now'; signal: NodeJS.Signals }
  | { type: 'berth:reload' }
  | { type: 'berth:metrics-collect'; id: number }
  | { type: 'berth:metrics'; id: number; text: string };

/** Whether `message` is one of Berth's (prom-client and node's own messages share the channel). */
export function isBerthMessage<T extends { type: string }>(message: unknown): message is T {
  const type = (message as { type?: unknown } | null)?.type;
  return typeof type === 'string' && type.startsWith('berth:');
}

/** Sends `message` to the primary; resolves once sent (or at once when the primary is gone). */
export function toPrimary(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected || !process.send) return resolve();
    process.send(message, undefined, undefined, () => resolve());
  });
}

/** Sends `message` to `worker`, unless it is gone (then, with a callback, there is no error event). */
export function toWorker(worker: Worker, message: PrimaryMessage): void {
  if (worker.isConnected()) worker.send(message, () => {});
}
