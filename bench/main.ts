/**
 * Entry point of `npm run bench`: parses the command line, benchmarks Berth (and, with
 * --compare, CNCF distribution, one server at a time), prints the comparison table or JSON,
 * and saves the raw results to .bench/results.json.
 */
import { fileURLToPath } from 'node:url';
import { killAllChildren } from './child.js';
import { clientCheck } from './client-check.js';
import { type BenchOptions, parseOptions, USAGE, UsageError } from './options.js';
import { compare, renderComparison } from './report.js';
import { buildResults, saveResults } from './results.js';
import { benchmarkServer, type RunSettings, type ServerReport } from './run.js';
import { PEAK_RSS, SCENARIOS } from './scenarios/index.js';
import { type BerthSetup, DISTRIBUTION_BINARY, distributionAvailable, stopAllServers } from './servers.js';

const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

/** Progress goes to stderr so stdout carries only the table (or the JSON). */
function log(message: string): void {
  process.stderr.write(`${message}\n`);
}

async function benchmark(options: BenchOptions): Promise<void> {
  let compared = options.compare;
  let note: string | undefined;
  if (compared && !distributionAvailable()) {
    compared = false;
    note = `--compare: ${DISTRIBUTION_BINARY} is not installed; running Berth only`;
    log(note);
  }
  const scenarios = SCENARIOS.filter((scenario) => options.only.includes(scenario.key));
  const withPeakRss = options.only.includes(PEAK_RSS.key);
  const bulkBytes = options.sizeMiB * 1024 * 1024;
  const publishBytes = options.publishMiB * 1024 * 1024;
  const setup: BerthSetup = { auth: options.auth, storage: options.storage, workers: options.workers };
  const settings: RunSettings = {
    bulkBytes,
    publishBytes,
    concurrency: options.concurrency,
    warmupMs: options.warmupSeconds * 1000,
    durationMs: options.durationSeconds * 1000,
    soakMs: options.soakMinutes * 60_000,
  };

  log('preparing payloads and digests');
  for (const scenario of scenarios) scenario.prepare?.(bulkBytes, publishBytes);

  const reports: ServerReport[] = [];
  const kinds = compared ? (['berth', 'distribution'] as const) : (['berth'] as const);
  for (const kind of kinds) {
    reports.push(await benchmarkServer(kind, setup, scenarios, withPeakRss, settings, projectRoot, log));
  }
  for (const report of reports) {
    if (report.output.trim() !== '') log(`[${report.kind}] server output:\n${report.output.trimEnd()}`);
  }

  const [berth, distribution] = reports as [ServerReport, ServerReport | undefined];
  const rows = compare(
    [...scenarios, ...(withPeakRss ? [PEAK_RSS] : [])],
    berth,
    distribution,
    options.sizeMiB,
  );
  const results = buildResults(options, reports, rows, note);
  const file = await saveResults(projectRoot, results);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
    return;
  }
  process.stdout.write(`\n${renderComparison(rows, compared, setup)}\n\n`);
  if (note) process.stdout.write(`note: ${note}\n`);
  process.stdout.write(`raw results: ${file}\n`);
}

async function main(argv: string[]): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseOptions(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`bench: ${error.message}\n\n${USAGE}\n`);
    return 2;
  }
  if (options.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  process.on('exit', killAllChildren);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`bench: ${signal}, stopping servers`);
      stopAllServers().finally(() => process.exit(130));
    });
  }
  try {
    if (options.clientCheck) {
      process.stdout.write(`\n${await clientCheck(options, log)}\n`);
    } else {
      await benchmark(options);
    }
    return 0;
  } catch (error) {
    log(`bench: ${(error as Error).message}`);
    await stopAllServers();
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
