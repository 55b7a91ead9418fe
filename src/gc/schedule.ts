/**
 * Garbage collection on a schedule inside the servers (`gc.interval`; 0 turns it off). Every
 * replica and worker keeps the timer and tries when it fires; the GC lease lets one of them
 * run and the others skip, so the store sees one collection per interval.
 */
import type { StorageDriver } from '../blobstore/driver.js';
import type { BerthConfig } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { durationOf } from './report.js';
import { runCollection } from './run.js';

/** Options of scheduleCollection. */
export interface ScheduleOptions {
  driver: StorageDriver;
  gc: BerthConfig['gc'];
  retention: BerthConfig['retention']['rules'];
  logger: Logger;
  metrics: Pick<Metrics, 'observeGc'>;
}

/** Stops the timer and aborts a run in progress (its lease is given back; tombstones wait for the next run). */
export type StopSchedule = () => Promise<void>;

/** Starts the schedule; a no-op when `gc.interval` is 0. */
export function scheduleCollection({
  driver,
  gc,
  retention,
  logger,
  metrics,
}: ScheduleOptions): StopSchedule {
  if (gc.interval <= 0) return async () => {};
  const stopping = new AbortController();
  let running: Promise<void> | undefined;
  const collect = async () => {
    try {
      const outcome = await runCollection({ driver, gc, retention, signal: stopping.signal });
      if (!outcome.ran) {
        metrics.observeGc('skipped');
        logger.debug('gc skipped: another process runs it', { holder: outcome.heldBy.holder });
        return;
      }
      metrics.observeGc('completed', outcome.value);
      logger.info('gc finished', { ...outcome.value, duration_ms: durationOf(outcome.value) });
    } catch (err) {
      if (stopping.signal.aborted) return;
      metrics.observeGc('failed');
      logger.error('gc failed', { error: err });
    }
  };
  const tick = () => {
    if (running) return;
    running = collect().finally(() => {
      running = undefined;
    });
  };
  const timer = setInterval(tick, gc.interval);
  timer.unref();
  return async () => {
    clearInterval(timer);
    stopping.abort();
    await running;
  };
}
