/**
 * The primary of `berth serve --workers N`: it serves nothing itself. It forks N workers that
 * share the listening port (node's cluster module hands connections to them in turn), prints
 * the one "listening" line once all of them listen, starts another worker when one dies (after
 * a back-off that grows while workers keep dying young), passes SIGTERM, SIGINT and SIGHUP on,
 * sums the workers' metrics for /metrics, and exits once every worker has drained and exited.
 * A worker that cannot start at start-up (port in use, bad policy file) stops them all, and
 * the primary exits with that worker's message and exit code, as a single process would.
 */
import cluster, { type Worker } from 'node:cluster';
import { CliError } from '../cli/io.js';
import { onSignals } from '../cli/serve.js';
import type { BerthConfig } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { isBerthMessage, type PrimaryMessage, toWorker, type WorkerMessage } from './messages.js';
import { metricsGatherer } from './metrics.js';

/** The first restart's delay; it doubles with each worker that dies young, up to the maximum. */
const FIRST_RESTART_DELAY_MS = 500;
const MAX_RESTART_DELAY_MS = 30_000;
/** A worker that ran this long died of something other than a crash loop: back-off resets. */
const STABLE_AFTER_MS = 60_000;

interface Member {
  worker: Worker;
  startedAt: number;
  listening: boolean;
}

type Phase = 'starting' | 'running' | 'stopping';

/** Supervises `config.http.workers` workers until they have all stopped; resolves with the exit code. */
export async function superviseWorkers(config: BerthConfig, logger: Logger): Promise<number> {
  const count = config.http.workers;
  const members = new Map<number, Member>();
  const metrics = metricsGatherer();
  const restarts = new Set<NodeJS.Timeout>();
  let phase: Phase = 'starting';
  let crashes = 0;
  let exitCode = 0;
  let announcement: Extract<WorkerMessage, { type: 'berth:listening' }> | undefined;
  const started = settleable<void>();
  const ended = settleable<void>();

  const fork = () => {
    const worker = cluster.fork();
    // A message to a worker that has just died fails with EPIPE on its IPC channel (seen when
    // the port is taken and the primary kills the other workers); unhandled, it would crash the
    // primary. The worker's 'exit' follows and is handled there.
    worker.on('error', (err: NodeJS.ErrnoException) => {
      if (phase !== 'stopping')
        logger.warn('could not reach a worker', { worker: worker.id, error: err.message });
    });
    members.set(worker.id, { worker, startedAt: Date.now(), listening: false });
  };
  const listening = () => [...members.values()].filter((member) => member.listening).map((m) => m.worker);
  const tellAll = (message: PrimaryMessage) => {
    for (const { worker } of members.values()) toWorker(worker, message);
  };
  const endIfEmpty = () => {
    if (phase === 'stopping' && members.size === 0) ended.resolve();
  };
  const stop = (signal: NodeJS.Signals) => {
    if (phase === 'stopping') return;
    phase = 'stopping';
    for (const timer of restarts) clearTimeout(timer);
    logger.info('shutting down: workers finish in-flight requests', {
      signal,
      workers: members.size,
      draintimeout_ms: config.http.draintimeout,
    });
    tellAll({ type: 'berth:stop', signal });
    endIfEmpty();
  };

  const onMessage = (worker: Worker, message: unknown) => {
    if (!isBerthMessage<WorkerMessage>(message)) return;
    const member = members.get(worker.id);
    if (message.type === 'berth:ready') toWorker(worker, { type: 'berth:start', config });
    if (message.type === 'berth:metrics-part') metrics.handle(message);
    if (message.type === 'berth:metrics-request') {
      void metrics
        .gather(listening())
        .then((text) => toWorker(worker, { type: 'berth:metrics', id: message.id, text }));
    }
    if (message.type === 'berth:listening' && member) {
      member.listening = true;
      if (phase !== 'starting') logger.info('worker started', { worker: worker.id, pid: worker.process.pid });
      announcement ??= message;
      if (phase === 'starting' && listening().length === count) started.resolve();
    }
    if (message.type === 'berth:failed') {
      if (phase === 'starting') started.reject(new CliError(message.message, message.exitCode));
      else logger.error('a new worker could not start', { worker: worker.id, error: message.message });
    }
  };

  const onExit = (worker: Worker, code: number | null, signal: string | null) => {
    const member = members.get(worker.id);
    members.delete(worker.id);
    if (phase === 'starting') {
      const how = signal ? `by ${signal}` : `with code ${code}`;
      started.reject(new CliError(`a worker exited ${how} while starting`, code || 1));
    } else if (phase === 'stopping') {
      if (code !== 0) exitCode = 1;
    } else {
      crashes = member && Date.now() - member.startedAt >= STABLE_AFTER_MS ? 1 : crashes + 1;
      const delay = Math.min(FIRST_RESTART_DELAY_MS * 2 ** (crashes - 1), MAX_RESTART_DELAY_MS);
      logger.error('worker exited unexpectedly: starting another', {
        worker: worker.id,
        pid: worker.process.pid,
        code,
        signal,
        restart_in_ms: delay,
      });
      const timer = setTimeout(() => {
        restarts.delete(timer);
        if (phase === 'running') fork();
      }, delay);
      restarts.add(timer);
    }
    endIfEmpty();
  };

  cluster.on('message', onMessage);
  cluster.on('exit', onExit);
  const stopListening = onSignals({
    get stopping() {
      return phase === 'stopping';
    },
    stop,
    stopNow(signal) {
      logger.warn('second signal: stopping workers without waiting for requests in flight', { signal });
      tellAll({ type: 'berth:stop-now', signal });
      process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
    },
    reload() {
      logger.info('SIGHUP: reloading the auth policy in every worker');
      tellAll({ type: 'berth:reload' });
    },
  });
  try {
    for (let i = 0; i < count; i++) fork();
    const failure = await Promise.race([
      started.promise.then(
        () => undefined,
        (err: unknown) => err,
      ),
      ended.promise,
    ]);
    if (failure) {
      phase = 'stopping';
      for (const { worker } of members.values()) worker.kill('SIGKILL');
      endIfEmpty();
      await ended.promise;
      throw failure;
    }
    if (phase === 'starting' && announcement) {
      phase = 'running';
      logger.info(`${announcement.message}, ${count} workers`, { ...announcement.fields, workers: count });
    }
    await ended.promise;
    logger.info('stopped');
    return exitCode;
  } finally {
    stopListening();
    cluster.off('message', onMessage);
    cluster.off('exit', onExit);
  }
}

/** A promise with its resolve and reject at hand; settling it again changes nothing. */
function settleable<T>() {
  let resolve: (value: T) => void = () => {};
  let reject: (err: unknown) => void = () => {};
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A rejection nobody awaits yet (a failure while stopping) is not an unhandled one.
  promise.catch(() => {});
  return { promise, resolve, reject };
}
