/**
 * --client-check: drives the fixed-duration GET and HEAD loops against a trivial node:http
 * server in a child process, and reports the request rate and the harness's own CPU use, to
 * show the load generator has headroom over the registries it measures.
 */
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { peakRssMiB, spawnChild } from './child.js';
import { runClosedLoop } from './load.js';
import type { BenchOptions } from './options.js';
import { requestHead } from './registry-client.js';
import { formatValue } from './report.js';
import { freePort, waitUntilReady } from './servers.js';
import { renderTable } from './table.js';

/** Runs the check and returns the printable report. */
export async function clientCheck(options: BenchOptions, log: (message: string) => void): Promise<string> {
  const port = await freePort();
  const script = fileURLToPath(new URL('./trivial-server.js', import.meta.url));
  const child = spawnChild(process.execPath, [script, String(port)], process.cwd(), process.env);
  const rows: string[][] = [];
  try {
    await waitUntilReady(child, port, '/', 'trivial server');
    for (const method of ['GET', 'HEAD']) {
      const head = Buffer.from(requestHead(method, '/', `127.0.0.1:${port}`), 'latin1');
      const headOnly = method === 'HEAD';
      const request = { head, headOnly, expectedStatus: 200, what: `${method} /` };
      log(
        `[client-check] ${method} / for ${options.durationSeconds} s at concurrency ${options.concurrency}`,
      );
      const cpuBefore = process.cpuUsage();
      const wallBefore = performance.now();
      const result = await runClosedLoop(
        port,
        request,
        options.concurrency,
        options.warmupSeconds * 1000,
        options.durationSeconds * 1000,
      );
      const cpu = process.cpuUsage(cpuBefore);
      const cpuPercent = ((cpu.user + cpu.system) / 1000 / (performance.now() - wallBefore)) * 100;
      const rate = result.operations / (result.elapsedMs / 1000);
      rows.push([
        `${method} /`,
        formatValue(rate, 'req/s'),
        formatValue(result.latency.p50Ms, 'ms'),
        formatValue(result.latency.p99Ms, 'ms'),
        `${cpuPercent.toFixed(0)}%`,
        formatValue(rate / (cpuPercent / 100), 'req/s'),
      ]);
    }
    log(`[client-check] trivial server peak RSS ${peakRssMiB(child.pid).toFixed(1)} MiB`);
  } finally {
    await child.stop();
  }
  const header = ['request', 'rate', 'p50', 'p99', 'client CPU (1 core = 100%)', 'client capacity per core'];
  return renderTable(header, rows, ['left', 'right', 'right', 'right', 'right', 'right']);
}
