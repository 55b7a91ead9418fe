/** Scenario c: pulling a large blob (GET, body consumed and discarded, size verified). */
import { performance } from 'node:perf_hooks';
import { bulkPayload } from '../data.js';
import { openConnection } from '../raw-http.js';
import { BenchError, expectStatus, pushBlob, repoHead } from '../registry-client.js';
import { megabytesPerSecond } from '../stats.js';
import { medianOfRuns } from './bulk.js';
import type { Scenario } from './types.js';

const REPO = 'bench/pull';
const READ_BUFFER_SIZE = 1024 * 1024;

/** Pushes the bulk payload once (untimed), then GETs it three times. */
export const pull: Scenario = {
  key: 'pull',
  title: (mib) => `pull ${mib} MiB`,
  unit: 'MB/s',
  target: 1,
  lowerIsBetter: false,
  repositories: [REPO],
  prepare(bulkBytes) {
    bulkPayload(bulkBytes).stamp(21);
  },
  async run(ctx) {
    const repo = ctx.repository(REPO);
    const payload = bulkPayload(ctx.bulkBytes);
    const size = payload.buffer.length;
    const conn = await openConnection(ctx.port, { readBufferSize: READ_BUFFER_SIZE });
    try {
      const digest = payload.stamp(21);
      await pushBlob(conn, repo, payload.buffer, digest);
      const path = `/v2/${REPO}/blobs/${digest}`;
      const head = repoHead(repo, 'GET', path);
      return await medianOfRuns(ctx.log, async () => {
        const started = performance.now();
        const response = await conn.request(head);
        const elapsed = performance.now() - started;
        expectStatus(response, 200, `GET ${path}`);
        if (response.bodyLength !== size) {
          throw new BenchError(`GET ${path}: expected ${size} body bytes, got ${response.bodyLength}`);
        }
        return megabytesPerSecond(size, elapsed);
      });
    } finally {
      conn.close();
    }
  },
};
