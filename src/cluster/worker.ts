/**
 * One worker of `berth serve --workers N`: a whole Berth with the primary's configuration, on
 * the port the primary shares out. Its log lines carry `worker` (the cluster's worker id). It
 * tells the primary when it listens (the primary prints the one "listening" line) or why it
 * could not start (the primary exits with that), and stops, stops at once or reloads auth when
 * the primary passes a signal on, as well as on signals of its own.
 */
import cluster from 'node:cluster';
import { expectedFailure } from '../cli/failure.js';
import { type Controls, controlsOf, onSignals, startServing } from '../cli/serve.js';
import type { BerthConfig } from '../config/schema.js';
import { createLogger } from '../log/logger.js';
import { createMetrics } from '../metrics/metrics.js';
import { isBerthMessage, type PrimaryMessage, toPrimary } from './messages.js';
import { workerMetrics } from './metrics.js';

/** Runs this worker until told to stop; resolves with its exit code. */
export async function serveAsWorker(): Promise<number> {
  const metrics = workerMetrics(createMetrics());
  let controls: Controls | undefined;
  let stopBeforeStarted: NodeJS.Signals | undefined;
  const configured = new Promise<BerthConfig>((resolve) => {
    const onMessage = (message: unknown) => {
      if (!isBerthMessage<PrimaryMessage>(message)) return;
      if (message.type === 'berth:start') resolve(message.config);
      else if (message.type === 'berth:stop' && !controls) stopBeforeStarted = message.signal;
      else if (controls) obey(controls, message);
      metrics.handle(message);
    };
    process.on('message', onMessage);
  });
  void toPrimary({ type: 'berth:ready' });
  const config = await configured;
  if (stopBeforeStarted) {
    // Told to stop before it was told how to start: there is nothing to drain.
    process.disconnect();
    return 0;
  }
  const logger = createLogger({ level: config.log.level, formatter: config.log.formatter }).child({
    worker: workerId(),
  });
  try {
    const instance = await startServing(config, logger, {
      metrics: metrics.metrics,
      announce: (message, fields) => void toPrimary({ type: 'berth:listening', message, fields }),
    });
    controls = controlsOf(instance, config, logger);
  } catch (err) {
    const failure = expectedFailure(err);
    if (!failure) throw err;
    await toPrimary({ type: 'berth:failed', ...failure });
    process.disconnect();
    return failure.exitCode;
  }
  // Ctrl-C in a terminal reaches the workers as well as the primary.
  const stopListening = onSignals(controls);
  if (stopBeforeStarted) controls.stop(stopBeforeStarted);
  await controls.stopped;
  stopListening();
  logger.info('stopped');
  // The IPC channel would keep the process alive.
  process.disconnect();
  return 0;
}

/** Acts on a signal the primary passed on. A stop after a stop changes nothing: see messages.ts. */
function obey(controls: Controls, message: PrimaryMessage): void {
  if (message.type === 'berth:stop') controls.stop(message.signal);
  if (message.type === 'berth:stop-now') controls.stopNow(message.signal);
  if (message.type === 'berth:reload') controls.reload();
}

function workerId(): number | undefined {
  return cluster.worker?.id;
}
