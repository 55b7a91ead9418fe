/** Benchmarks one server: start it, run the selected scenarios in order, read peak RSS, stop it. */
import { performance } from 'node:perf_hooks';
import { type AuthMode, fetchToken } from './auth.js';
import { syncDisks } from './child.js';
import { type ProcessPeak, resetTreePeakRss, treeCpuSeconds, treePeakRss } from './process-tree.js';
import { openConnection } from './raw-http.js';
import { BenchError, type RepoTarget } from './registry-client.js';
import type { Measurement, Scenario, ScenarioContext } from './scenarios/types.js';
import {
  type BerthSetup,
  describeSetup,
  type ServerKind,
  type ServerUnderTest,
  startServer,
} from './servers.js';
import type { StorageKind } from './storage.js';

/** Everything measured on one server. */
export interface ServerReport {
  kind: ServerKind;
  /** The auth the server ran with (distribution: always none). */
  auth: AuthMode;
  /** Where it kept its data (distribution: always its filesystem). */
  storage: StorageKind;
  /** Its worker processes (1: a single process). */
  workers: number;
  /** Measurements by metric key (peak RSS included when selected). */
  results: Record<string, Measurement>;
  /** Share of one CPU core the harness itself used during each scenario, by key. */
  clientCpuPercent: Record<string, number>;
  /** Share of one CPU core the server (all its processes) used during each scenario (200% = both cores), by key. */
  serverCpuPercent: Record<string, number>;
  /** How the server process ended after SIGTERM. */
  exitStatus: string;
  /** What the server printed (it runs at log level warn/error, so normally nothing). */
  output: string;
}

/** Run settings shared by all scenarios. */
export type RunSettings = Omit<
  ScenarioContext,
  | 'port'
  | 'host'
  | 'log'
  | 'auth'
  | 'repository'
  | 'openStore'
  | 'berthCommand'
  | 'serverPid'
  | 'serverPeakRss'
>;

/**
 * The repositories a server's scenarios may use: without auth any name, with auth only those
 * a token was fetched for (by `authorize`, before each scenario starts, as a client logs in
 * before it pulls), so a scenario that forgot to declare one fails loudly instead of with 401s.
 */
function repositories(server: ServerUnderTest) {
  const tokens = new Map<string, string>();
  return {
    async authorize(names: readonly string[]): Promise<void> {
      const auth = server.auth;
      const missing = names.filter((name) => !tokens.has(name));
      if (!auth || missing.length === 0) return;
      const conn = await openConnection(server.port);
      try {
        for (const name of missing) tokens.set(name, await fetchToken(conn, server.host, auth.admin, name));
      } finally {
        conn.close();
      }
    },
    target(name: string): RepoTarget {
      if (!server.auth) return { host: server.host, name, headers: {} };
      const token = tokens.get(name);
      if (token === undefined) throw new BenchError(`no token for ${name}: the scenario does not list it`);
      return { host: server.host, name, headers: { Authorization: `Bearer ${token}` } };
    },
  };
}

/**
 * The peak-rss result: the sum of the processes' VmHWM, each process as a part when there are
 * several (the primary first, then the workers). The processes peak at different moments, so
 * the sum is an upper bound of what they held at once.
 */
function peakRssMeasurement(peaks: readonly ProcessPeak[]): Measurement {
  const value = peaks.length === 0 ? Number.NaN : peaks.reduce((sum, peak) => sum + peak.peakMiB, 0);
  if (peaks.length < 2) return { value };
  return {
    value,
    title: `peak RSS (sum of ${peaks.length} processes' VmHWM)`,
    parts: peaks.map((peak, i) => ({
      key: i === 0 ? 'primary' : `worker-${i}`,
      title: i === 0 ? 'primary' : `worker ${i}`,
      unit: 'MiB',
      value: peak.peakMiB,
      lowerIsBetter: true,
    })),
  };
}

/**
 * Starts `kind` (Berth as `berthSetup` says, distribution alone on its filesystem without
 * auth), runs `scenarios`, then stops it; peak RSS is recorded when `withPeakRss`.
 */
export async function benchmarkServer(
  kind: ServerKind,
  berthSetup: BerthSetup,
  scenarios: readonly Scenario[],
  withPeakRss: boolean,
  settings: RunSettings,
  projectRoot: string,
  log: (message: string) => void,
): Promise<ServerReport> {
  syncDisks();
  const setup: BerthSetup = kind === 'berth' ? berthSetup : { auth: 'none', storage: 'fs', workers: 1 };
  const { auth } = setup;
  log(`[${kind}] starting (${describeSetup(setup).join(', ')})`);
  const server = await startServer(kind, projectRoot, setup, log);
  log(`[${kind}] ready on ${server.host} (pid ${server.child.pid})`);
  const results: Record<string, Measurement> = {};
  const clientCpuPercent: Record<string, number> = {};
  const serverCpuPercent: Record<string, number> = {};
  const repos = repositories(server);
  const ctx: ScenarioContext = {
    ...settings,
    port: server.port,
    host: server.host,
    serverPid: server.child.pid,
    auth: server.auth,
    repository: repos.target,
    openStore: server.openStore,
    berthCommand: server.berthCommand,
    serverPeakRss: {
      reset: () => resetTreePeakRss(server.child.pid),
      read: () => peakRssMeasurement(treePeakRss(server.child.pid)).value,
    },
    log,
  };
  try {
    for (const scenario of scenarios) {
      if (scenario.needsAuth && !server.auth) {
        log(`[${kind}] skipping ${scenario.key}: it needs token auth`);
        continue;
      }
      if (scenario.seedsStore && !server.openStore) {
        log(`[${kind}] skipping ${scenario.key}: it seeds Berth's store`);
        continue;
      }
      log(`[${kind}] ${scenario.title(settings.bulkBytes / 1024 / 1024)}`);
      syncDisks();
      try {
        await repos.authorize(scenario.repositories);
      } catch (error) {
        throw new Error(`[${kind}] fetching tokens for ${scenario.key} failed: ${(error as Error).message}`);
      }
      const cpuBefore = process.cpuUsage();
      const serverCpuBefore = treeCpuSeconds(server.child.pid);
      const wallBefore = performance.now();
      try {
        results[scenario.key] = await scenario.run(ctx);
      } catch (error) {
        const exit = server.child.exitStatus();
        const suffix = exit ? ` (the server has exited: ${exit}; output:\n${server.child.output()})` : '';
        throw new Error(`[${kind}] scenario ${scenario.key} failed: ${(error as Error).message}${suffix}`);
      }
      const wallMs = performance.now() - wallBefore;
      const cpu = process.cpuUsage(cpuBefore);
      const client = ((cpu.user + cpu.system) / 1000 / wallMs) * 100;
      const serverCpu = ((treeCpuSeconds(server.child.pid) - serverCpuBefore) * 1000 * 100) / wallMs;
      clientCpuPercent[scenario.key] = client;
      serverCpuPercent[scenario.key] = serverCpu;
      const measured = describe(results[scenario.key] as Measurement, scenario.unit);
      log(
        `[${kind}]   => ${measured} (CPU during the scenario: server ${serverCpu.toFixed(0)}%, client ${client.toFixed(0)}%)`,
      );
    }
  } finally {
    const peaks = await server.stop();
    if (withPeakRss) results['peak-rss'] = peakRssMeasurement(peaks);
  }
  const exitStatus = server.child.exitStatus() ?? 'unknown';
  if (withPeakRss) log(`[${kind}] peak RSS ${(results['peak-rss'] as Measurement).value.toFixed(1)} MiB`);
  log(`[${kind}] stopped (${exitStatus})`);
  return {
    kind,
    auth,
    storage: setup.storage,
    workers: setup.workers,
    results,
    clientCpuPercent,
    serverCpuPercent,
    exitStatus,
    output: server.child.output(),
  };
}

function describe(measurement: Measurement, unit: string): string {
  const latency = measurement.latency
    ? `, p50 ${measurement.latency.p50Ms.toFixed(2)} ms, p99 ${measurement.latency.p99Ms.toFixed(2)} ms`
    : '';
  const parts = (measurement.parts ?? []).map((part) => `; ${part.title}: ${describe(part, part.unit)}`);
  return `${measurement.value.toFixed(1)} ${unit}${latency}${parts.join('')}`;
}
