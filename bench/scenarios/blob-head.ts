/** Scenario g: HEAD of one existing blob, closed loop on keep-alive connections. */
import { randomBytes } from 'node:crypto';
import { sha256Digest } from '../data.js';
import { runClosedLoop } from '../load.js';
import { openConnection, responseHeader } from '../raw-http.js';
import { BenchError, expectStatus, pushBlob, repoHead } from '../registry-client.js';
import type { Scenario } from './types.js';

const REPO = 'bench/blob-head';
const BLOB_SIZE = 4096;

/** Pushes one 4 KiB blob (untimed), checks one HEAD answer, then HEADs it for the configured duration. */
export const blobHead: Scenario = {
  key: 'blob-head',
  title: () => 'blob HEAD req/s',
  unit: 'req/s',
  target: 5,
  lowerIsBetter: false,
  repositories: [REPO],
  async run(ctx) {
    const repo = ctx.repository(REPO);
    const blob = randomBytes(BLOB_SIZE);
    const digest = sha256Digest(blob);
    const path = `/v2/${REPO}/blobs/${digest}`;
    const head = Buffer.from(repoHead(repo, 'HEAD', path), 'latin1');
    const setup = await openConnection(ctx.port);
    try {
      await pushBlob(setup, repo, blob, digest);
      const response = await setup.request(head, { headOnly: true });
      expectStatus(response, 200, `HEAD ${path}`);
      const length = responseHeader(response, 'content-length');
      if (length !== String(BLOB_SIZE)) {
        throw new BenchError(`HEAD ${path}: expected Content-Length ${BLOB_SIZE}, got ${length}`);
      }
    } finally {
      setup.close();
    }
    const request = { head, headOnly: true, expectedStatus: 200, what: `HEAD ${path}` };
    const result = await runClosedLoop(ctx.port, request, ctx.concurrency, ctx.warmupMs, ctx.durationMs);
    return { value: result.operations / (result.elapsedMs / 1000), latency: result.latency };
  },
};
