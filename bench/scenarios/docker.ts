/**
 * Scenario: `docker push` and `docker pull` of a 5-layer 200 MiB image, the way most users
 * meet a registry. Unlike the raw-HTTP scenarios this includes the client's own work (gzip on
 * push, gunzip and unpacking on pull), which is most of the time: it shows what a user sees,
 * not what the server can do. Each run builds a fresh image (untimed) so no layer exists on
 * the server or in the daemon beforehand, then times the push, removes the image from the
 * daemon and times the pull.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { type DockerClient, dockerClient, writeBuildContext } from '../docker-cli.js';
import { BenchError } from '../registry-client.js';
import { median } from '../stats.js';
import { BULK_RUNS } from './bulk.js';
import type { Measurement, Scenario, ScenarioContext } from './types.js';

const REPO = 'bench/docker';
/** Layer sizes in MiB: 200 MiB in all, a large base layer and smaller ones above, as images are. */
const LAYER_MIB = [80, 50, 40, 20, 10];

/** Pushes then pulls a freshly built image BULK_RUNS times; push seconds headline, pull as a part. */
export const dockerPushPull: Scenario = {
  key: 'docker',
  title: () => `docker push, ${LAYER_MIB.length}-layer ${sum(LAYER_MIB)} MiB image`,
  unit: 's',
  // No target: the client's compression dominates, so the figure says little about the server.
  target: undefined,
  lowerIsBetter: true,
  repositories: [REPO],
  needsDocker: true,
  async run(ctx) {
    const docker = await dockerClient();
    try {
      if (ctx.auth) await login(docker, ctx);
      const push: number[] = [];
      const pull: number[] = [];
      for (let run = 0; run < BULK_RUNS; run++) {
        const [pushed, pulled] = await pushAndPull(docker, ctx, run);
        ctx.log(`  run ${run + 1}/${BULK_RUNS}: push ${pushed.toFixed(2)} s, pull ${pulled.toFixed(2)} s`);
        push.push(pushed);
        pull.push(pulled);
      }
      return summary(push, pull);
    } finally {
      await docker.close();
    }
  },
};

async function login(docker: DockerClient, ctx: ScenarioContext): Promise<void> {
  const admin = ctx.auth?.admin;
  if (!admin) return;
  await docker.run(['login', '--username', admin.username, '--password-stdin', ctx.host], admin.password);
}

/** One run: build (untimed), push (timed), remove from the daemon, pull (timed), remove. */
async function pushAndPull(
  docker: DockerClient,
  ctx: ScenarioContext,
  run: number,
): Promise<[number, number]> {
  const image = `${ctx.host}/${REPO}:run${run}-${Date.now()}`;
  const context = await writeBuildContext(LAYER_MIB.map((mib) => randomBytes(mib * 1024 * 1024)));
  try {
    await docker.run(['build', '--quiet', '--tag', image, context]);
  } finally {
    await rm(context, { recursive: true, force: true });
  }
  const pushed = await timed(() => docker.run(['push', image]));
  await docker.run(['rmi', image]);
  let output = '';
  const pulled = await timed(async () => {
    output = await docker.run(['pull', image]);
  });
  await docker.run(['rmi', image]);
  // A layer left in the daemon would be "Already exists" and make the pull look faster.
  const downloaded = output.match(/Pull complete/g)?.length ?? 0;
  if (downloaded !== LAYER_MIB.length) {
    throw new BenchError(`docker pull downloaded ${downloaded} of ${LAYER_MIB.length} layers:\n${output}`);
  }
  return [pushed, pulled];
}

async function timed(work: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await work();
  return (performance.now() - started) / 1000;
}

function summary(push: number[], pull: number[]): Measurement {
  return {
    value: median(push),
    samples: push,
    parts: [
      {
        key: 'pull',
        title: 'docker pull of the same image',
        unit: 's',
        value: median(pull),
        samples: pull,
        lowerIsBetter: true,
      },
    ],
  };
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
