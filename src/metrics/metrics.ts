/**
 * Prometheus metrics of one Berth process, on a registry of its own (no prom-client global
 * state): HTTP requests by route template and status, bytes in and out, uploads streaming
 * right now, storage driver operation latency, and writes refused for lack of space.
 */

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { AuthEvent } from '../auth/authorizer.js';
import type { OperationObserver } from '../blobstore/checked.js';
import type { GcReport } from '../gc/report.js';

/** The metrics the rest of Berth reports to. */
export interface Metrics {
  readonly registry: Registry;
  /**
   * What /metrics answers, in `registry.contentType`: this process's metrics, or in a cluster
   * worker the whole cluster's (src/cluster.ts).
   */
  render(): Promise<string>;
  observeRequest(sample: RequestSample): void;
  /** +1 when an upload request starts streaming data, -1 when it stops. */
  uploadTransfer(delta: 1 | -1): void;
  /** Storage driver operation durations by outcome (`ok`, `not_found`, `conflict`, `error`). */
  observeStorage: OperationObserver;
  /** Counts a write refused because storage is full. */
  storageFullRefusal(): void;
  /** Counts logins, issued and refused tokens, and refused requests. */
  observeAuth(event: AuthEvent): void;
  /** A scheduled GC run's outcome, with its report when it ran. */
  observeGc(outcome: GcOutcome, report?: GcReport): void;
  /** A scheduled retention run's outcome, with what it did when it ran. */
  observeRetention(outcome: GcOutcome, done?: RetentionCounts): void;
}

/** What a retention run did, for its metrics. */
export interface RetentionCounts {
  tags: number;
  history: number;
  /** Tags left alone because a push moved them while the run decided. */
  raced: number;
}

/** How a scheduled GC run ended: it ran, another process held the lease, or it failed. */
export type GcOutcome = 'completed' | 'skipped' | 'failed';

/** One finished HTTP request. */
export interface RequestSample {
  method: string;
  route: string;
  status: number;
  seconds: number;
  bytesIn: number;
  bytesOut: number;
}

/** Creates the metrics of one process. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'berth_' });
  const labelNames = ['method', 'route', 'status'] as const;
  const requests = new Counter({
    name: 'berth_http_requests_total',
    help: 'HTTP requests by method, route template and status.',
    labelNames,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'berth_http_request_duration_seconds',
    help: 'HTTP request duration by method, route template and status.',
    labelNames,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const received = new Counter({
    name: 'berth_http_request_bytes_total',
    help: 'Request body bytes received, by route template.',
    labelNames: ['route'],
    registers: [registry],
  });
  const sent = new Counter({
    name: 'berth_http_response_bytes_total',
    help: 'Response bytes sent, by route template.',
    labelNames: ['route'],
    registers: [registry],
  });
  const uploads = new Gauge({
    name: 'berth_uploads_in_progress',
    help: 'Upload requests currently streaming blob data.',
    registers: [registry],
  });
  const storage = new Histogram({
    name: 'berth_storage_operation_duration_seconds',
    help: 'Storage driver operation duration by driver, operation and outcome (ok, not_found, conflict, error).',
    labelNames: ['driver', 'operation', 'outcome'],
    buckets: [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 30],
    registers: [registry],
  });

  const storageFull = new Counter({
    name: 'berth_storage_full_refusals_total',
    help: 'Writes refused because storage is out of space (answered 507).',
    registers: [registry],
  });

  const auth = new Counter({
    name: 'berth_auth_events_total',
    help: 'Auth events: login_success, login_failure, login_limited, token_issued, token_invalid, access_denied.',
    labelNames: ['event'],
    registers: [registry],
  });

  const gc = gcMetrics(registry);
  const retention = retentionMetrics(registry);

  return {
    registry,
    render: () => registry.metrics(),
    observeGc: gc.observe,
    observeRetention: retention.observe,
    observeRequest(sample) {
      const labels = { method: sample.method, route: sample.route, status: String(sample.status) };
      requests.inc(labels);
      duration.observe(labels, sample.seconds);
      if (sample.bytesIn > 0) received.inc({ route: sample.route }, sample.bytesIn);
      if (sample.bytesOut > 0) sent.inc({ route: sample.route }, sample.bytesOut);
    },
    uploadTransfer(delta) {
      uploads.inc(delta);
    },
    observeStorage(driver, operation, seconds, outcome) {
      storage.observe({ driver, operation, outcome }, seconds);
    },
    storageFullRefusal() {
      storageFull.inc();
    },
    observeAuth(event) {
      auth.inc({ event });
    },
  };
}

/** Garbage collection: runs, what they deleted and freed, and how long the last one took. */
function gcMetrics(registry: Registry) {
  const runs = new Counter({
    name: 'berth_gc_runs_total',
    help: 'Scheduled GC runs by outcome: completed, skipped (another process held the lease), failed.',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const deleted = new Counter({
    name: 'berth_gc_deleted_objects_total',
    help: 'Objects GC deleted, by kind: blob, link (a layer link), referrer (a referrers entry).',
    labelNames: ['kind'],
    registers: [registry],
  });
  const freed = new Counter({
    name: 'berth_gc_freed_bytes_total',
    help: 'Bytes of blobs GC deleted.',
    registers: [registry],
  });
  const revived = new Counter({
    name: 'berth_gc_revived_total',
    help: 'GC candidates a push referenced again before they were deleted.',
    registers: [registry],
  });
  const phases = new Gauge({
    name: 'berth_gc_last_run_phase_seconds',
    help: 'How long each phase of the last completed GC run took.',
    labelNames: ['phase'],
    registers: [registry],
  });
  return {
    observe(outcome: GcOutcome, report?: GcReport): void {
      runs.inc({ outcome });
      if (!report) return;
      deleted.inc({ kind: 'blob' }, report.deleted.blobs);
      deleted.inc({ kind: 'link' }, report.deleted.links);
      deleted.inc({ kind: 'referrer' }, report.deleted.referrers);
      freed.inc(report.bytesFreed);
      revived.inc(report.revived);
      for (const [phase, ms] of Object.entries(report.phases)) phases.set({ phase }, (ms ?? 0) / 1000);
    },
  };
}

/** Retention: runs, tags deleted, history entries expired, tags a push saved. */
function retentionMetrics(registry: Registry) {
  const runs = new Counter({
    name: 'berth_retention_runs_total',
    help: 'Scheduled retention runs by outcome: completed, skipped (another process held the lease), failed.',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const counter = (name: string, help: string) => new Counter({ name, help, registers: [registry] });
  const tags = counter('berth_retention_tags_deleted_total', 'Tags retention rules deleted.');
  const history = counter('berth_retention_history_expired_total', 'Tag history entries retention expired.');
  const raced = counter(
    'berth_retention_tags_raced_total',
    'Tags retention left alone (or wrote back) because a push moved them while it decided.',
  );
  return {
    observe(outcome: GcOutcome, done?: RetentionCounts): void {
      runs.inc({ outcome });
      if (!done) return;
      tags.inc(done.tags);
      history.inc(done.history);
      raced.inc(done.raced);
    },
  };
}
