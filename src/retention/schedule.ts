/**
 * Retention on a schedule inside the servers (`retention.interval`; 0 turns it off). Every
 * replica and worker keeps the timer; the retention lease lets one of them run and the others
 * skip, so the store sees one run per interval.
 */
import type { StorageDriver } from '../blobstore/driver.js';
import type { BerthConfig } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import { countsOf, runRetention } from './run.js';

/** Options of scheduleRetention. */
export interface RetentionScheduleOptions {
  driver: StorageDriver;
  config: Pick<BerthConfig, 'retention' | 'tags'>;
  logger: Logger;
  metrics: Pick<Metrics, 'observeRetention'>;
}

/** Stops the timer and aborts a run in progress between repositories. */
export type StopRetention = () => Promise<void>;

/** Starts the schedule; a no-op when `retention.interval` is 0 or there are no rules. */
export function scheduleRetention({
  driver,
  config,
  logger,
  metrics,
}: RetentionScheduleOptions): StopRetention {
  const { interval, rules } = config.retention;
  if (interval <= 0 || rules.length === 0) return async () => {};
  const stopping = new AbortController();
  let running: Promise<void> | undefined;
  const apply = async () => {
    try {
      const outcome = await runRetention({
        driver,
        rules,
        immutable: config.tags.immutable,
        signal: stopping.signal,
      });
      if (!outcome.ran) {
        metrics.observeRetention('skipped');
        logger.debug('retention skipped: another process runs it', { holder: outcome.heldBy.holder });
        return;
      }
      const counts = countsOf(outcome.value);
      metrics.observeRetention('completed', {
        tags: counts.tag,
        history: counts.history,
        raced: outcome.value.raced,
      });
      logger.info('retention finished', { ...counts, raced: outcome.value.raced });
    } catch (err) {
      if (stopping.signal.aborted) return;
      metrics.observeRetention('failed');
      logger.error('retention failed', { error: err });
    }
  };
  const timer = setInterval(() => {
    running ??= apply().finally(() => {
      running = undefined;
    });
  }, interval);
  timer.unref();
  return async () => {
    clearInterval(timer);
    stopping.abort();
    await running;
  };
}
