/** Scenario b: chunked blob push (POST, PATCH per 8 MiB chunk, then PUT ?digest= without body). */
import { performance } from 'node:perf_hooks';
import { bulkPayload } from '../data.js';
import { openConnection } from '../raw-http.js';
import { finishUpload, pushChunks } from '../registry-client.js';
import { megabytesPerSecond } from '../stats.js';
import { BULK_RUNS, medianOfRuns } from './bulk.js';
import type { Scenario } from './types.js';

const REPO = 'bench/chunked';
const CHUNK_SIZE = 8 * 1024 * 1024;

/** Pushes the bulk payload in 8 MiB PATCH chunks, three times with different content. */
export const chunkedPush: Scenario = {
  key: 'chunked-push',
  title: (mib) => `chunked push ${mib} MiB`,
  unit: 'MB/s',
  target: 2,
  lowerIsBetter: false,
  repositories: [REPO],
  prepare(bulkBytes) {
    const payload = bulkPayload(bulkBytes);
    for (let run = 0; run < BULK_RUNS; run++) payload.stamp(11 + run);
  },
  async run(ctx) {
    const repo = ctx.repository(REPO);
    const payload = bulkPayload(ctx.bulkBytes);
    const { buffer } = payload;
    const conn = await openConnection(ctx.port);
    try {
      return await medianOfRuns(ctx.log, async (run) => {
        const digest = payload.stamp(11 + run);
        const started = performance.now();
        const location = await pushChunks(conn, repo, buffer, CHUNK_SIZE);
        await finishUpload(conn, repo, location, digest);
        return megabytesPerSecond(buffer.length, performance.now() - started);
      });
    } finally {
      conn.close();
    }
  },
};
