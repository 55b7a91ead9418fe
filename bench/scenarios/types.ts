/** The shapes shared by scenarios, the runner and the report. */
import type { LatencySummary } from '../stats.js';

/** What a scenario needs to know about the server and the run options. */
export interface ScenarioContext {
  port: number;
  /** Host header value, `127.0.0.1:<port>`. */
  host: string;
  /** Body size of the bulk scenarios, in bytes. */
  bulkBytes: number;
  /** Concurrency of the fixed-duration request-rate scenarios. */
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** Progress output (stderr). */
  log(message: string): void;
}

/** One scenario's result on one server. */
export interface Measurement {
  /** The headline number, in the scenario's unit. */
  value: number;
  /** Per-run values, for the median-of-runs scenarios. */
  samples?: number[];
  latency?: LatencySummary;
}

/** A reported metric: how to label it and what Berth should achieve against distribution. */
export interface MetricSpec {
  /** Name used by `--only` and in the JSON. */
  key: string;
  /** Row label; bulk scenarios mention the size. */
  title(bulkMiB: number): string;
  unit: string;
  /** The target ratio berth/distribution. */
  target: number;
  /** True when smaller numbers are better (memory); the target is then an upper bound. */
  lowerIsBetter: boolean;
}

/** A metric measured by running load against the server. */
export interface Scenario extends MetricSpec {
  /** Generates payloads and their digests up front, before any server runs. */
  prepare?(bulkBytes: number): void;
  run(ctx: ScenarioContext): Promise<Measurement>;
}
