/**
 * --client-check: drives the benchmark's own load loops (fixed-duration GET and HEAD, bulk
 * upload and download) against a trivial node:http server in a child process, and reports
 * the rates with the harness's CPU use, to show the load generator has headroom over the
 * registries it measures.
 */
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { spawnChild } from './child.js';
import { bulkPayload } from './data.js';
import { runClosedLoop } from './load.js';
import type { BenchOptions } from './options.js';
import { openConnection } from './raw-http.js';
import { BenchError, expectStatus, requestHead } from './registry-client.js';
import { formatValue } from './report.js';
import { BULK_RUNS } from './scenarios/bulk.js';
import { freePort, waitUntilReady } from './servers.js';
import { median, megabytesPerSecond } from './stats.js';
import { renderTable } from './table.js';

/** Runs `work` and returns its result with the share of one core this process used meanwhile. */
async function withCpu<T>(work: () => Promise<T>): Promise<[T, number]> {
  const cpuBefore = process.cpuUsage();
  const wallBefore = performance.now();
  const result = await work();
  const cpu = process.cpuUsage(cpuBefore);
  return [result, ((cpu.user + cpu.system) / 1000 / (performance.now() - wallBefore)) * 100];
}

/** One row: what, rate, latency (if any), client CPU, and the rate one full client core could drive. */
function checkRow(
  what: string,
  rate: number,
  unit: string,
  cpuPercent: number,
  latency?: [number, number],
): string[] {
  return [
    what,
    formatValue(rate, unit),
    latency ? formatValue(latency[0], 'ms') : '',
    latency ? formatValue(latency[1], 'ms') : '',
    `${cpuPercent.toFixed(0)}%`,
    formatValue(rate / (cpuPercent / 100), unit),
  ];
}

/** Runs the check and returns the printable report. */
export async function clientCheck(options: BenchOptions, log: (message: string) => void): Promise<string> {
  const bulk = bulkPayload(options.sizeMiB * 1024 * 1024).buffer;
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const script = fileURLToPath(new URL('./trivial-server.js', import.meta.url));
  const child = spawnChild(
    process.execPath,
    [script, String(port), String(bulk.length)],
    process.cwd(),
    process.env,
  );
  const rows: string[][] = [];
  try {
    await waitUntilReady(child, port, '/', 'trivial server');
    for (const method of ['GET', 'HEAD']) {
      const head = Buffer.from(requestHead(method, '/', host), 'latin1');
      const request = { head, headOnly: method === 'HEAD', expectedStatus: 200, what: `${method} /` };
      log(
        `[client-check] ${method} / for ${options.durationSeconds} s at concurrency ${options.concurrency}`,
      );
      const [result, cpu] = await withCpu(() =>
        runClosedLoop(
          port,
          request,
          options.concurrency,
          options.warmupSeconds * 1000,
          options.durationSeconds * 1000,
        ),
      );
      const rate = result.operations / (result.elapsedMs / 1000);
      rows.push(
        checkRow(`${method} / (c=${options.concurrency})`, rate, 'req/s', cpu, [
          result.latency.p50Ms,
          result.latency.p99Ms,
        ]),
      );
    }

    const conn = await openConnection(port, { readBufferSize: 1024 * 1024 });
    try {
      const upload = Buffer.from(
        requestHead('PUT', '/upload', host, { 'Content-Length': bulk.length }),
        'latin1',
      );
      const download = Buffer.from(requestHead('GET', '/bulk', host), 'latin1');
      log(`[client-check] bulk upload and download of ${options.sizeMiB} MiB, ${BULK_RUNS} runs each`);
      const bulkRun = async (send: () => Promise<void>) => {
        const rates: number[] = [];
        for (let run = 0; run < BULK_RUNS; run++) {
          const started = performance.now();
          await send();
          rates.push(megabytesPerSecond(bulk.length, performance.now() - started));
        }
        return median(rates);
      };
      const [up, upCpu] = await withCpu(() =>
        bulkRun(async () => expectStatus(await conn.request(upload, { body: bulk }), 201, 'PUT /upload')),
      );
      rows.push(checkRow(`upload ${options.sizeMiB} MiB`, up, 'MB/s', upCpu));
      const [down, downCpu] = await withCpu(() =>
        bulkRun(async () => {
          const response = await conn.request(download);
          expectStatus(response, 200, 'GET /bulk');
          if (response.bodyLength !== bulk.length)
            throw new BenchError(`GET /bulk: got ${response.bodyLength} bytes`);
        }),
      );
      rows.push(checkRow(`download ${options.sizeMiB} MiB`, down, 'MB/s', downCpu));
    } finally {
      conn.close();
    }
  } finally {
    await child.stop();
  }
  const header = [
    'client check (trivial server)',
    'rate',
    'p50',
    'p99',
    'client CPU',
    'rate per client core',
  ];
  return renderTable(header, rows, ['left', 'right', 'right', 'right', 'right', 'right']);
}
