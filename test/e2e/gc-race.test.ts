/**
 * The GC race (docs/gc.md): 8 clients push images that share layers through two replicas on
 * one store while `berth gc` runs back to back with no grace period and a 1 s delete delay;
 * clients delete older images, so layers keep becoming GC candidates, and push them again or
 * skip them because HEAD says they exist. Afterwards every image answered 201 and not deleted
 * copies out whole with skopeo. After every GC run the live images are also read over HTTP,
 * since a layer lost for a moment may come back when a client pushes it again.
 *
 * The negative control runs the same scenario with the tombstone check switched off
 * (BERTH_TEST_SKIP_TOMBSTONE_CHECK=1, servers and GC) and must lose an image, which shows the
 * test can fail. BERTH_GC_RACE_SECONDS shortens the race (default 120 s per store).
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { forEachLimited } from '../../src/registry/limited.js';
import { TOMBSTONE_CHECK_OFF_VARIABLE } from '../../src/registry/tombstones.js';
import { removeDir, tempDir } from '../helpers/tmp.js';
import {
  BERTH_BIN,
  type BerthProcess,
  CLI_ENV,
  serverErrors,
  startBerthProcess,
} from './helpers/berth-process.js';
import { type GcTally, startGcLoop } from './helpers/gc-loop.js';
import { skopeoProblem, unpullable } from './helpers/image-check.js';
import {
  emptyTally,
  keyOf,
  layerPool,
  type PushedImage,
  type RaceTally,
  runRaceClients,
} from './helpers/race-clients.js';
import { run } from './helpers/run.js';
import { filesystemStore, SHARED_STORES, type SharedStore } from './helpers/shared-store.js';

const RACE_SECONDS = Number(process.env.BERTH_GC_RACE_SECONDS ?? 120);
/** The negative control stops at the first loss; this is only its cap. */
const CONTROL_CAP_SECONDS = 50;
const CLIENTS = 8;
/** Layers all clients draw from: with 8 clients keeping 6 images of 2–3 layers, about a third are unreferenced at any time. */
const POOL_SIZE = 48;
const KEEP = 6;

const GC_ENV = { BERTH_GC_GRACEPERIOD: '0s', BERTH_GC_DELETEDELAY: '1s' };
/**
 * The servers' guard asks storage whether each target exists once a write has taken longer
 * than their `gc.deletedelay`. A cache may vouch for a blob for `storage.cache.ttl` after GC
 * deleted it, so the protocol needs the servers' delay plus the ttl to stay within GC's delay:
 * 750 ms + 250 ms = 1 s.
 */
const SERVER_ENV = { BERTH_GC_DELETEDELAY: '750ms', BERTH_STORAGE_CACHE_TTL: '250ms' };
const CHECK_OFF = { [TOMBSTONE_CHECK_OFF_VARIABLE]: '1' };

/** What one race left behind. */
interface Race {
  replicas: BerthProcess[];
  clients: RaceTally;
  gc: GcTally;
  /** Live images that did not pull whole after some GC run. */
  lost: Array<{ image: PushedImage; problem: string; afterRun: number }>;
}

interface RaceOptions {
  seconds: number;
  checkOff: boolean;
  /** Stop at the first live image that does not pull. */
  stopOnLoss: boolean;
}

async function race(store: SharedStore, options: RaceOptions): Promise<Race> {
  const env = { ...store.env, ...SERVER_ENV, ...(options.checkOff ? CHECK_OFF : {}) };
  const replicas = await Promise.all([1, 2].map(() => startBerthProcess({ root: store.root, env })));
  const urls = replicas.map((replica) => replica.url);
  const clients = emptyTally();
  const lost: Race['lost'] = [];
  const deadline = Date.now() + options.seconds * 1000;
  const isLive = (image: PushedImage) => clients.live.has(keyOf(image));
  const gcEnv = {
    ...store.env,
    BERTH_STORAGE_FILESYSTEM_ROOTDIRECTORY: store.root,
    ...GC_ENV,
    ...(options.checkOff ? CHECK_OFF : {}),
  };
  const gc = startGcLoop(gcEnv, async () => {
    const url = urls[gc.tally.runs % urls.length] as string;
    for (const found of await unpullable(url, [...clients.live.values()], isLive))
      lost.push({ ...found, afterRun: gc.tally.runs });
  });
  let failed = false;
  const stopped = () => failed || Date.now() > deadline || (options.stopOnLoss && lost.length > 0);
  try {
    await runRaceClients(
      { urls, clients: CLIENTS, pool: layerPool(POOL_SIZE), keep: KEEP, stopped },
      clients,
    );
    return { replicas, clients, gc: await gc.stop(), lost };
  } catch (err) {
    // Leave no process behind to keep the test file running.
    failed = true;
    await gc.stop().catch(() => undefined);
    await Promise.all(replicas.map((replica) => replica.stop()));
    throw err;
  }
}

/** Stops the replicas and the store; resolves with their log lines. */
async function stopRace(race: Race | undefined, store: SharedStore | undefined): Promise<string[]> {
  await Promise.all(race?.replicas.map((replica) => replica.stop()) ?? []);
  await store?.dispose();
  return race?.replicas.flatMap((replica) => replica.logs) ?? [];
}

function summary({ clients, gc }: Race): string {
  return (
    `${clients.pushed} images pushed, ${clients.deleted} deleted, ${clients.live.size} live; ` +
    `${clients.skipped} uploads skipped on HEAD, ${clients.mounts} mounts, ${clients.refusals} refusals retried; ` +
    `${gc.runs} GC runs deleted ${gc.deletedBlobs} blobs and ${gc.deletedLinks} links, revived ${gc.revived}`
  );
}

for (const [label, openStore] of SHARED_STORES) {
  describe(`GC racing pushes through two replicas on ${label}`, () => {
    let store: SharedStore;
    let outcome: Race;
    let logs: string[] = [];
    let work: string;

    before(
      async () => {
        store = await openStore();
        work = await tempDir('berth-gc-race-');
        outcome = await race(store, { seconds: RACE_SECONDS, checkOff: false, stopOnLoss: false });
      },
      { timeout: (RACE_SECONDS + 120) * 1000 },
    );
    after(async () => {
      logs = await stopRace(outcome, store);
      if (work) await removeDir(work);
      const fiveHundreds = logs.filter((line) => /"status":5\d\d/.test(line));
      assert.equal(
        fiveHundreds.length,
        outcome?.clients.serverErrors ?? 0,
        'every 5xx the servers logged is a refusal a client met and retried',
      );
      assert.deepEqual(
        serverErrors(logs).filter((line) => /"level":"error"/.test(line)),
        [],
      );
    });

    it('every image a client pushed and did not delete copies out whole with skopeo', async (t) => {
      t.diagnostic(summary(outcome));
      const live = [...outcome.clients.live.values()];
      assert.ok(live.length >= CLIENTS, `each client left images (${live.length})`);
      const problems: string[] = [];
      const hosts = outcome.replicas.map((replica) => replica.host);
      await forEachLimited(live, 4, async (image, i) => {
        const out = path.join(work, `image-${i}`);
        const problem = await skopeoProblem(hosts[i % hosts.length] as string, image, out);
        if (problem) problems.push(`${keyOf(image)}: ${problem}`);
      });
      assert.deepEqual(problems, []);
    });

    it('berth fsck finds the store clean afterwards', async () => {
      const env = { ...CLI_ENV, ...store.env, BERTH_STORAGE_FILESYSTEM_ROOTDIRECTORY: store.root };
      const checked = await run(BERTH_BIN, ['fsck'], { env });
      assert.equal(checked.code, 0, `${checked.stdout}\n${checked.stderr}`);
    });

    it('no live image failed to pull after any GC run', () => {
      assert.deepEqual(
        outcome.lost.map(
          ({ image, problem, afterRun }) => `${keyOf(image)} after run ${afterRun}: ${problem}`,
        ),
        [],
      );
    });

    it('GC deleted blobs and links and revived candidates that pushes referenced again', () => {
      const { gc } = outcome;
      assert.deepEqual(gc.failures, []);
      assert.ok(gc.runs >= 3, `GC ran back to back (${gc.runs} runs)`);
      assert.ok(gc.deletedBlobs > 0 && gc.deletedLinks > 0, summary(outcome));
      assert.ok(gc.revived > 0, summary(outcome));
    });

    it('clients took the dangerous paths, and GC only ever refused pushes cleanly', () => {
      const { clients } = outcome;
      assert.deepEqual(clients.unexpected, []);
      assert.equal(clients.gaveUp, 0, 'every refused push went through when retried');
      assert.ok(clients.deleted > 0 && clients.skipped > 0 && clients.mounts > 0, summary(outcome));
    });
  });
}

describe('the negative control: GC racing pushes without the tombstone check', () => {
  let store: SharedStore;
  let outcome: Race;
  let work: string;

  before(async () => {
    store = await filesystemStore();
    work = await tempDir('berth-gc-control-');
    outcome = await race(store, { seconds: CONTROL_CAP_SECONDS, checkOff: true, stopOnLoss: true });
  });
  after(async () => {
    await stopRace(outcome, store);
    if (work) await removeDir(work);
  });

  it('loses an image that answered 201 and was never deleted', async (t) => {
    t.diagnostic(summary(outcome));
    assert.ok(outcome.lost.length > 0, `no loss within ${CONTROL_CAP_SECONDS} s: ${summary(outcome)}`);
    // A client may have pushed a lost layer again before the clients stopped: one loss that
    // skopeo confirms is enough.
    const replica = outcome.replicas[0] as BerthProcess;
    const confirmed: string[] = [];
    for (const [i, { image, problem, afterRun }] of outcome.lost.entries()) {
      if (await skopeoProblem(replica.host, image, path.join(work, `lost-${i}`)))
        confirmed.push(`${keyOf(image)} after GC run ${afterRun}: ${problem}`);
    }
    t.diagnostic(confirmed.join('\n'));
    assert.ok(confirmed.length > 0, 'skopeo copies out every image found lost: all came back');
  });
});
