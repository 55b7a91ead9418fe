/** Scenario a: monolithic blob push (POST, then one PUT carrying the whole body). */
import { performance } from 'node:perf_hooks';
import { bulkPayload } from '../data.js';
import { openConnection } from '../raw-http.js';
import { finishUpload, startUpload } from '../registry-client.js';
import { megabytesPerSecond } from '../stats.js';
import { BULK_RUNS, medianOfRuns } from './bulk.js';
import type { Scenario } from './types.js';

const REPO = 'bench/monolithic';

/** Pushes the bulk payload with POST + PUT ?digest=, three times with different content. */
export const monolithicPush: Scenario = {
  key: 'monolithic-push',
  title: (mib) => `monolithic push ${mib} MiB`,
  unit: 'MB/s',
  target: 2,
  lowerIsBetter: false,
  repositories: [REPO],
  prepare(bulkBytes) {
    const payload = bulkPayload(bulkBytes);
    for (let run = 0; run < BULK_RUNS; run++) payload.stamp(1 + run);
  },
  async run(ctx) {
    const repo = ctx.repository(REPO);
    const payload = bulkPayload(ctx.bulkBytes);
    const conn = await openConnection(ctx.port);
    try {
      return await medianOfRuns(ctx.log, async (run) => {
        const digest = payload.stamp(1 + run);
        const started = performance.now();
        const location = await startUpload(conn, repo);
        await finishUpload(conn, repo, location, digest, payload.buffer);
        return megabytesPerSecond(payload.buffer.length, performance.now() - started);
      });
    } finally {
      conn.close();
    }
  },
};
