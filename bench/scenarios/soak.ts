/**
 * Scenario: the soak. 32 clients each push a small image under a fresh tag and read it back,
 * in a loop, for `--soak-minutes` (default 10), so the store and the server's caches keep
 * growing. Every 30 s it reads the RSS of the server's process tree (and the heap split the
 * server reports) and prints a progress line; the result is the series and whether RSS
 * levelled off below 200 MiB (issue 9).
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { judgeLevelOff, type LevelOffVerdict } from '../level-off.js';
import { processTreeRssMiB } from '../process-tree.js';
import { readHeapSplit } from '../server-memory.js';
import { runSoakClient, type SoakCounters, soakCounters } from '../soak-client.js';
import type { ProgressSample, Scenario, ScenarioContext } from './types.js';

const CLIENTS = 32;
const SAMPLE_EVERY_MS = 30_000;
const LIMITS = { toleranceMiB: 5, limitMiB: 200 };

const repositoryName = (client: number) => `soak/client-${String(client).padStart(2, '0')}`;
const REPOSITORIES = Array.from({ length: CLIENTS }, (_, client) => repositoryName(client));

function progressLine(sample: ProgressSample): string {
  const whole = Math.round(sample.elapsedSeconds);
  const minutes = Math.floor(whole / 60);
  const seconds = String(whole % 60).padStart(2, '0');
  const split =
    sample.heapUsedMiB === undefined || sample.externalMiB === undefined
      ? ''
      : ` (heap used ${sample.heapUsedMiB.toFixed(1)} MiB, external ${sample.externalMiB.toFixed(1)} MiB)`;
  return (
    `  ${minutes}:${seconds}  RSS ${sample.rssMiB.toFixed(1)} MiB, ${sample.requests} requests, ` +
    `${sample.errors} errors, ${sample.manifests} manifests stored${split}`
  );
}

function describeVerdict(verdict: LevelOffVerdict): string {
  const level = verdict.levelledOff ? 'levelled off' : 'did NOT level off';
  const limit = verdict.withinLimit ? 'below' : 'NOT below';
  return (
    `${level} (growth over the last half ${verdict.growthMiB.toFixed(1)} MiB, tolerance ` +
    `${LIMITS.toleranceMiB} MiB), ${limit} ${LIMITS.limitMiB} MiB (max ${verdict.maxMiB.toFixed(1)} MiB)`
  );
}

/** Reads the server now, every SAMPLE_EVERY_MS until `done` settles, and once more after. */
async function sampleUntil(
  done: Promise<unknown>,
  take: () => Promise<void>,
  started: number,
  deadline: number,
): Promise<void> {
  const settled = done.then(
    () => true,
    () => true,
  );
  await take();
  for (let next = started + SAMPLE_EVERY_MS; next < deadline; next += SAMPLE_EVERY_MS) {
    if (await Promise.race([settled, sleep(Math.max(0, next - performance.now()), false)])) break;
    await take();
  }
  await settled;
  await take();
}

/** Runs the clients and the sampler; resolves with the series and the final totals. */
async function runSoak(
  ctx: ScenarioContext,
): Promise<{ series: ProgressSample[]; counters: SoakCounters; elapsedMs: number }> {
  const counters = soakCounters();
  const series: ProgressSample[] = [];
  const started = performance.now();
  const deadline = started + ctx.soakMs;
  const take = async () => {
    const sample: ProgressSample = {
      elapsedSeconds: (performance.now() - started) / 1000,
      rssMiB: processTreeRssMiB(ctx.serverPid),
      requests: counters.requests,
      errors: counters.errors,
      manifests: counters.manifests,
      ...(await readHeapSplit(ctx.host)),
    };
    series.push(sample);
    ctx.log(progressLine(sample));
  };
  const clients = Promise.all(
    Array.from({ length: CLIENTS }, (_, client) =>
      runSoakClient(
        ctx.port,
        ctx.repository(repositoryName(client)),
        `t${Date.now().toString(36)}`,
        () => performance.now() < deadline,
        counters,
      ),
    ),
  );
  await sampleUntil(clients, take, started, deadline);
  await clients;
  return { series, counters, elapsedMs: performance.now() - started };
}

/** Soaks the server; the headline is the maximum RSS, the series and verdict go into the JSON. */
export const soak: Scenario = {
  key: 'soak',
  title: () => `soak, ${CLIENTS} clients pushing and reading back small images: max RSS`,
  unit: 'MiB',
  target: undefined,
  lowerIsBetter: true,
  repositories: REPOSITORIES,
  longRunning: true,
  async run(ctx) {
    const { series, counters, elapsedMs } = await runSoak(ctx);
    const verdict = judgeLevelOff(series, LIMITS);
    const verdictText = describeVerdict(verdict);
    ctx.log(`  RSS series (MiB): ${series.map((s) => s.rssMiB.toFixed(1)).join(', ')}`);
    ctx.log(`  RSS ${verdictText}`);
    for (const message of counters.firstErrors) ctx.log(`  error: ${message}`);
    const part = (key: string, title: string, unit: string, value: number, lowerIsBetter: boolean) => ({
      key,
      title,
      unit,
      value,
      lowerIsBetter,
    });
    return {
      value: verdict.maxMiB,
      parts: [
        part('last', 'RSS at the end', 'MiB', verdict.lastMiB, true),
        part('growth', 'RSS growth over the last half (fitted)', 'MiB', verdict.growthMiB, true),
        part('rate', 'requests', 'req/s', counters.requests / (elapsedMs / 1000), false),
        part('errors', 'errors', 'errors', counters.errors, true),
        part('manifests', 'manifests stored', 'manifests', counters.manifests, false),
      ],
      series,
      verdict: verdictText,
    };
  },
};
