/** Benchmarks one server: start it, run the selected scenarios in order, read peak RSS, stop it. */
import { performance } from 'node:perf_hooks';
import { cpuSeconds, syncDisks } from './child.js';
import type { Measurement, Scenario, ScenarioContext } from './scenarios/types.js';
import { type ServerKind, startServer } from './servers.js';

/** Everything measured on one server. */
export interface ServerReport {
  kind: ServerKind;
  /** Measurements by metric key (peak RSS included when selected). */
  results: Record<string, Measurement>;
  /** Share of one CPU core the harness itself used during each scenario, by key. */
  clientCpuPercent: Record<string, number>;
  /** Share of one CPU core the server used during each scenario (200% = both cores), by key. */
  serverCpuPercent: Record<string, number>;
  /** How the server process ended after SIGTERM. */
  exitStatus: string;
  /** What the server printed (it runs at log level warn/error, so normally nothing). */
  output: string;
}

/** Run settings shared by all scenarios. */
export type RunSettings = Omit<ScenarioContext, 'port' | 'host' | 'log'>;

/** Starts `kind`, runs `scenarios`, then stops it; peak RSS is recorded when `withPeakRss`. */
export async function benchmarkServer(
  kind: ServerKind,
  scenarios: readonly Scenario[],
  withPeakRss: boolean,
  settings: RunSettings,
  projectRoot: string,
  log: (message: string) => void,
): Promise<ServerReport> {
  syncDisks();
  log(`[${kind}] starting`);
  const server = await startServer(kind, projectRoot);
  log(`[${kind}] ready on ${server.host} (pid ${server.child.pid})`);
  const results: Record<string, Measurement> = {};
  const clientCpuPercent: Record<string, number> = {};
  const serverCpuPercent: Record<string, number> = {};
  const ctx: ScenarioContext = { ...settings, port: server.port, host: server.host, log };
  try {
    for (const scenario of scenarios) {
      log(`[${kind}] ${scenario.title(settings.bulkBytes / 1024 / 1024)}`);
      syncDisks();
      const cpuBefore = process.cpuUsage();
      const serverCpuBefore = cpuSeconds(server.child.pid);
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
      const serverCpu = ((cpuSeconds(server.child.pid) - serverCpuBefore) * 1000 * 100) / wallMs;
      clientCpuPercent[scenario.key] = client;
      serverCpuPercent[scenario.key] = serverCpu;
      const measured = describe(results[scenario.key] as Measurement, scenario.unit);
      log(
        `[${kind}]   => ${measured} (CPU during the scenario: server ${serverCpu.toFixed(0)}%, client ${client.toFixed(0)}%)`,
      );
    }
  } finally {
    const peak = await server.stop();
    if (withPeakRss) results['peak-rss'] = { value: peak };
  }
  const exitStatus = server.child.exitStatus() ?? 'unknown';
  if (withPeakRss) log(`[${kind}] peak RSS ${(results['peak-rss'] as Measurement).value.toFixed(1)} MiB`);
  log(`[${kind}] stopped (${exitStatus})`);
  return { kind, results, clientCpuPercent, serverCpuPercent, exitStatus, output: server.child.output() };
}

function describe(measurement: Measurement, unit: string): string {
  const latency = measurement.latency
    ? `, p50 ${measurement.latency.p50Ms.toFixed(2)} ms, p99 ${measurement.latency.p99Ms.toFixed(2)} ms`
    : '';
  return `${measurement.value.toFixed(1)} ${unit}${latency}`;
}
