/**
 * /metrics of a cluster: whichever worker a scrape reaches asks the primary, which gathers every
 * listening worker's metrics and sums them with prom-client's AggregatorRegistry (counters and
 * histograms add up; gauges such as uploads in progress add up too). A worker that does not
 * answer in time is left out of that scrape rather than failing it; a restarted worker starts
 * its counters from zero, which Prometheus reads as a counter reset.
 */
import type { Worker } from 'node:cluster';
import { AggregatorRegistry } from 'prom-client';
import type { Metrics } from '../metrics/metrics.js';
import { type PrimaryMessage, toPrimary, toWorker, type WorkerMessage } from './messages.js';

/** How long the primary waits for workers' metrics; a worker waits twice that for the sum. */
const GATHER_TIMEOUT_MS = 5_000;

/** In a worker: `local` with render() answering for the cluster, and the replies it handles. */
export function workerMetrics(local: Metrics): { metrics: Metrics; handle(message: PrimaryMessage): void } {
  const waiting = new Map<number, (text: string) => void>();
  let next = 0;
  const render = () =>
    new Promise<string>((resolve, reject) => {
      const id = next++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error('the cluster primary did not answer with the metrics in time'));
      }, 2 * GATHER_TIMEOUT_MS);
      waiting.set(id, (text) => {
        clearTimeout(timer);
        waiting.delete(id);
        resolve(text);
      });
      void toPrimary({ type: 'berth:metrics-request', id });
    });
  return {
    metrics: { ...local, render },
    handle(message) {
      if (message.type === 'berth:metrics') waiting.get(message.id)?.(message.text);
      if (message.type !== 'berth:metrics-collect') return;
      void local.registry
        .getMetricsAsJSON()
        .then((metrics) => toPrimary({ type: 'berth:metrics-part', id: message.id, metrics }));
    },
  };
}

/** In the primary: sums the metrics of `workers`, and the parts it collects for that. */
export function metricsGatherer(): {
  gather(workers: Worker[]): Promise<string>;
  handle(message: WorkerMessage): void;
} {
  const gathering = new Map<number, { parts: object[][]; expected: number; done(): void }>();
  let next = 0;
  return {
    async gather(workers) {
      const id = next++;
      const parts: object[][] = [];
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          gathering.delete(id);
          resolve();
        };
        const timer = setTimeout(done, GATHER_TIMEOUT_MS);
        gathering.set(id, { parts, expected: workers.length, done });
        for (const worker of workers) toWorker(worker, { type: 'berth:metrics-collect', id });
        if (workers.length === 0) done();
      });
      return AggregatorRegistry.aggregate(parts).metrics();
    },
    handle(message) {
      if (message.type !== 'berth:metrics-part') return;
      const pending = gathering.get(message.id);
      if (!pending) return;
      pending.parts.push(message.metrics);
      if (pending.parts.length === pending.expected) pending.done();
    },
  };
}
