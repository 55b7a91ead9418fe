/**
 * Load shapes: a fixed number of tasks spread over N workers (one connection each), and a
 * closed loop that repeats one pre-built request on N connections for a fixed duration.
 */
import { performance } from 'node:perf_hooks';
import { openConnection, type RawConnection } from './raw-http.js';
import { expectStatus } from './registry-client.js';
import { createLatencyRecorder, type LatencySummary } from './stats.js';

/** What a load run measured. */
export interface LoadResult {
  /** Operations completed in the measured window. */
  operations: number;
  /** Length of the measured window in milliseconds. */
  elapsedMs: number;
  latency: LatencySummary;
}

/** Opens `count` connections to `port`. */
export function openConnections(port: number, count: number): Promise<RawConnection[]> {
  return Promise.all(Array.from({ length: count }, () => openConnection(port)));
}

/** Closes every connection in `connections`. */
export function closeAll(connections: readonly RawConnection[]): void {
  for (const conn of connections) conn.close();
}

/**
 * Runs `worker` on every connection at once; the first failure calls `stop` (so the others
 * wind down) and is rethrown. The connections are closed either way.
 */
async function runOnEach(
  connections: readonly RawConnection[],
  worker: (conn: RawConnection) => Promise<void>,
  stop: () => void,
): Promise<void> {
  try {
    await Promise.all(
      connections.map((conn) =>
        worker(conn).catch((error: unknown) => {
          stop();
          throw error;
        }),
      ),
    );
  } finally {
    closeAll(connections);
  }
}

/**
 * Runs `task(conn, i)` for i in 0..count-1 on `concurrency` connections, timing each task.
 * Connections are opened before the clock starts; the first failure aborts the run.
 */
export async function runTasks(
  port: number,
  count: number,
  concurrency: number,
  task: (conn: RawConnection, index: number) => Promise<void>,
): Promise<LoadResult> {
  const connections = await openConnections(port, concurrency);
  const recorder = createLatencyRecorder(count);
  let next = 0;
  let failed = false;
  const worker = async (conn: RawConnection) => {
    while (!failed && next < count) {
      const index = next++;
      const started = performance.now();
      await task(conn, index);
      recorder.record(performance.now() - started);
    }
  };
  const started = performance.now();
  await runOnEach(connections, worker, () => {
    failed = true;
  });
  return { operations: count, elapsedMs: performance.now() - started, latency: recorder.summary() };
}

/** A request repeated by runClosedLoop. */
export interface RepeatedRequest {
  /** The complete request head, built once. */
  head: Buffer;
  headOnly: boolean;
  expectedStatus: number;
  /** When set, every response body must be exactly this long. */
  expectedBodyLength?: number;
  /** Names the request in error messages. */
  what: string;
}

/**
 * Sends `request` back to back on `concurrency` keep-alive connections: `warmupMs` unmeasured,
 * then `durationMs` measured. Counts the responses that complete inside the measured window.
 */
export async function runClosedLoop(
  port: number,
  request: RepeatedRequest,
  concurrency: number,
  warmupMs: number,
  durationMs: number,
): Promise<LoadResult> {
  const connections = await openConnections(port, concurrency);
  const recorder = createLatencyRecorder(1 << 18);
  const options = { headOnly: request.headOnly };
  const measureFrom = performance.now() + warmupMs;
  const measureTo = measureFrom + durationMs;
  let completed = 0;
  let failed = false;
  const worker = async (conn: RawConnection) => {
    let now = performance.now();
    while (now < measureTo && !failed) {
      const started = now;
      const response = await conn.request(request.head, options);
      now = performance.now();
      if (response.status !== request.expectedStatus)
        expectStatus(response, request.expectedStatus, request.what);
      if (request.expectedBodyLength !== undefined && response.bodyLength !== request.expectedBodyLength) {
        throw new Error(
          `${request.what}: expected a ${request.expectedBodyLength}-byte body, got ${response.bodyLength}`,
        );
      }
      if (now >= measureFrom && now <= measureTo) {
        completed++;
        recorder.record(now - started);
      }
    }
  };
  await runOnEach(connections, worker, () => {
    failed = true;
  });
  return { operations: completed, elapsedMs: durationMs, latency: recorder.summary() };
}
