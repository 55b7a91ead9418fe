/** The shapes shared by scenarios, the runner and the report. */
import type { StorageDriver } from '../../src/blobstore/driver.js';
import type { RunResult } from '../../test/e2e/helpers/run.js';
import type { BenchAuth } from '../auth.js';
import type { RepoTarget } from '../registry-client.js';
import type { LatencySummary } from '../stats.js';

/** What a scenario needs to know about the server and the run options. */
export interface ScenarioContext {
  port: number;
  /** Host header value, `127.0.0.1:<port>`. */
  host: string;
  /** Body size of the bulk scenarios, in bytes. */
  bulkBytes: number;
  /** Size of the blob publish-1g pushes, in bytes. */
  publishBytes: number;
  /** Concurrency of the fixed-duration request-rate scenarios. */
  concurrency: number;
  warmupMs: number;
  durationMs: number;
  /** Length of the soak, in milliseconds. */
  soakMs: number;
  /** Process id of the server under test (its workers are its children). */
  serverPid: number;
  /** The accounts of the server's policy when it runs with token auth; undefined without auth. */
  auth: BenchAuth | undefined;
  /**
   * Repository `name` of the scenario's `repositories`, with the token the runner fetched for
   * it before the scenario started (no headers without auth).
   */
  repository(name: string): RepoTarget;
  /** Opens Berth's own store, to seed it directly; undefined for distribution. */
  openStore: (() => Promise<StorageDriver>) | undefined;
  /**
   * Runs a `berth` command against the server's store with `env` added (as a CronJob runs
   * `berth gc` next to the servers); undefined for distribution.
   */
  berthCommand: ((args: string[], env: Record<string, string>) => Promise<RunResult>) | undefined;
  /** The server's peak RSS, for a scenario that reports the peak of its own work. */
  serverPeakRss: {
    /** Starts a new peak at the current RSS, in every process of the server. */
    reset(): void;
    /** MiB: the peak since the last reset (or since start), summed over the server's processes. */
    read(): number;
  };
  /** Progress output (stderr). */
  log(message: string): void;
}

/** A further figure of a scenario that measures more than one thing; reported under its headline. */
export interface MeasurementPart {
  /** Appended to the scenario key (`<scenario>.<key>`) in the JSON. */
  key: string;
  title: string;
  unit: string;
  value: number;
  lowerIsBetter: boolean;
  samples?: number[];
  latency?: LatencySummary;
}

/** One scenario's result on one server. */
export interface Measurement {
  /** Row label, when it depends on what was measured; else the metric's title. */
  title?: string;
  /** The headline number, in the scenario's unit. */
  value: number;
  /** Per-run values, for the median-of-runs scenarios. */
  samples?: number[];
  latency?: LatencySummary;
  parts?: MeasurementPart[];
  /** Readings taken during a long-running scenario, in time order. */
  series?: ProgressSample[];
  /** A long-running scenario's judgement of its series, in words. */
  verdict?: string;
}

/** One reading of the server and the load during a long-running scenario. */
export interface ProgressSample {
  elapsedSeconds: number;
  /** RSS of the server's whole process tree. */
  rssMiB: number;
  requests: number;
  errors: number;
  manifests: number;
  /** The V8 heap in use and the memory outside it, as the server reports them. */
  heapUsedMiB?: number;
  externalMiB?: number;
}

/** A reported metric: how to label it and what Berth should achieve against distribution. */
export interface MetricSpec {
  /** Name used by `--only` and in the JSON. */
  key: string;
  /** Row label; bulk scenarios mention the size. */
  title(bulkMiB: number): string;
  unit: string;
  /** The target ratio berth/distribution; undefined when distribution has no counterpart. */
  target: number | undefined;
  /** True when smaller numbers are better (memory); the target is then an upper bound. */
  lowerIsBetter: boolean;
}

/** A metric measured by running load against the server. */
export interface Scenario extends MetricSpec {
  /** Every repository the scenario uses; with auth, the runner fetches a token for each first. */
  repositories: readonly string[];
  /** Only meaningful against a server with token auth; skipped on others. */
  needsAuth?: boolean;
  /** Drives the docker CLI (a running dockerd); only run when asked for by `--only`. */
  needsDocker?: boolean;
  /**
   * Seeds Berth's store directly (`openStore`), which takes a while: run only when asked for
   * by `--only`, and against Berth only.
   */
  seedsStore?: boolean;
  /** Runs for minutes or moves a GiB: only run when asked for by `--only`. */
  longRunning?: boolean;
  /** Generates payloads and their digests up front, before any server runs. */
  prepare?(bulkBytes: number, publishBytes: number): void;
  run(ctx: ScenarioContext): Promise<Measurement>;
}
