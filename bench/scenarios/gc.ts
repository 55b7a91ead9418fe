/**
 * Scenario: garbage collection of a store of 10,000 blobs and 2,000 manifests of which half
 * is garbage (bench/gc-seed.ts writes it through the driver), by `berth gc --json` run next to
 * the server as a CronJob would; once with the store idle, once while connections push images
 * through the server. Reports the run's time (and the time without its two `deletedelay`
 * waits, 1 s each here), what it freed, and push throughput while GC runs against without.
 * Every run must delete exactly the seeded garbage (and, with pushes, nothing pushed).
 */
import { performance } from 'node:perf_hooks';
import type { StorageDriver } from '../../src/blobstore/driver.js';
import type { GcReport } from '../../src/gc/report.js';
import { syncDisks } from '../child.js';
import { type PushTally, startPushLoad } from '../gc-pushers.js';
import { type SeededStore, type SeedShape, seedGcStore, wipeStore } from '../gc-seed.js';
import { BenchError } from '../registry-client.js';
import type { MeasurementPart, Scenario, ScenarioContext } from './types.js';

const PUSH_REPO = 'bench/gc-push';
const SHAPE: Omit<SeedShape, 'prefix'> = {
  images: 2000,
  layersPerImage: 4,
  layerSize: 4096,
  repositories: 100,
};
const DELETE_DELAY_S = 1;
const GC_ENV = { BERTH_GC_GRACEPERIOD: '0s', BERTH_GC_DELETEDELAY: `${DELETE_DELAY_S}s` };
const PUSH_CONCURRENCY = 8;
const BASELINE_PUSH_MS = 10_000;

/** Seeds, collects with the store idle, pushes alone, then seeds again and collects under pushes. */
export const gc: Scenario = {
  key: 'gc',
  title: () => 'GC of 10,000 blobs / 2,000 manifests, half garbage, idle store',
  unit: 's',
  target: undefined,
  lowerIsBetter: true,
  repositories: [PUSH_REPO],
  seedsStore: true,
  longRunning: true,
  async run(ctx) {
    if (!ctx.openStore || !ctx.berthCommand) throw new BenchError('gc: the server under test is not Berth');
    const driver = await ctx.openStore();
    const repo = ctx.repository(PUSH_REPO);

    const idleSeed = await seed(ctx, driver, 'bench/gc-idle');
    const idle = await collect(ctx);
    expectFreed(idle, idleSeed, 'idle');

    const alone = await startPushLoad(ctx.port, repo, PUSH_CONCURRENCY);
    await new Promise((resolve) => setTimeout(resolve, BASELINE_PUSH_MS));
    const baseline = await alone.stop();

    await wipeStore(driver);
    const busySeed = await seed(ctx, driver, 'bench/gc-busy');
    const load = await startPushLoad(ctx.port, repo, PUSH_CONCURRENCY);
    const busy = await collect(ctx);
    const during = await load.stop();
    // A refused push leaves its two blobs unreferenced, and this run may take them too.
    expectFreed(busy, busySeed, 'with pushes', 2 * during.refusals);
    ctx.log(`  pushes: ${rate(baseline).toFixed(1)} images/s alone, ${rate(during).toFixed(1)} while GC ran`);

    return {
      value: seconds(idle),
      parts: [
        part('work', 'idle: GC time without the two 1 s waits', 's', work(idle), true),
        part('freed', 'idle: freed', 'MiB', idle.bytesFreed / 2 ** 20, false),
        part('busy', 'with pushes: GC time', 's', seconds(busy), true),
        part('busy-work', 'with pushes: GC time without the two 1 s waits', 's', work(busy), true),
        part('busy-freed', 'with pushes: freed', 'MiB', busy.bytesFreed / 2 ** 20, false),
        part('busy-revived', 'with pushes: candidates revived by pushes', 'objects', busy.revived, false),
        part(
          'push-alone',
          `pushes alone (${PUSH_CONCURRENCY} connections)`,
          'images/s',
          rate(baseline),
          false,
        ),
        part('push-during', 'pushes while GC runs', 'images/s', rate(during), false),
        part('push-refused', 'pushes refused while GC ran', 'images', during.refusals, true),
      ],
    };
  },
};

async function seed(ctx: ScenarioContext, driver: StorageDriver, prefix: string): Promise<SeededStore> {
  const started = performance.now();
  const seeded = await seedGcStore(driver, { ...SHAPE, prefix });
  syncDisks();
  ctx.log(
    `  seeded ${seeded.blobs} blobs, ${seeded.manifests} manifests kept and ${seeded.garbageBlobs} blobs of garbage in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  return seeded;
}

/** One `berth gc --json` run; its report. */
async function collect(ctx: ScenarioContext): Promise<GcReport> {
  const result = await ctx.berthCommand?.(['gc', '--json'], GC_ENV);
  const line = result?.stdout.trim().split('\n').at(-1) ?? '';
  if (result?.code !== 0 || !line.startsWith('{"dryRun"'))
    throw new BenchError(`berth gc failed (${result?.code}): ${result?.stdout}${result?.stderr}`);
  const report = JSON.parse(line) as GcReport;
  ctx.log(`  gc: ${JSON.stringify(report)}`);
  return report;
}

/**
 * Fails the run unless GC deleted all the seeded garbage and nothing else but at most
 * `orphans` blobs that refused pushes left.
 */
function expectFreed(report: GcReport, seeded: SeededStore, what: string, orphans = 0): void {
  const { blobs } = report.deleted;
  const all = blobs >= seeded.garbageBlobs && report.bytesFreed >= seeded.garbageBytes;
  if (all && blobs <= seeded.garbageBlobs + orphans) return;
  throw new BenchError(
    `gc (${what}) deleted ${report.deleted.blobs} blobs (${report.bytesFreed} bytes); the seeded garbage was ${seeded.garbageBlobs} (${seeded.garbageBytes} bytes)`,
  );
}

function seconds(report: GcReport): number {
  return Object.values(report.phases).reduce((sum, ms) => sum + (ms ?? 0), 0) / 1000;
}

function work(report: GcReport): number {
  return seconds(report) - 2 * DELETE_DELAY_S;
}

function rate(tally: PushTally): number {
  return tally.images / (tally.elapsedMs / 1000);
}

function part(
  key: string,
  title: string,
  unit: string,
  value: number,
  lowerIsBetter: boolean,
): MeasurementPart {
  return { key, title, unit, value, lowerIsBetter };
}
