/** Scenario d: many small blob pushes (POST, then PUT ?digest= with the 4 KiB body), concurrently. */
import { blobPack } from '../data.js';
import { runTasks } from '../load.js';
import { pushBlob } from '../registry-client.js';
import type { Scenario } from './types.js';

const REPO = 'bench/small';
const BLOB_COUNT = 4000;
const BLOB_SIZE = 4096;
const CONCURRENCY = 32;

/** Pushes 4000 distinct 4 KiB blobs at concurrency 32; latency is per blob (both requests). */
export const smallBlobPush: Scenario = {
  key: 'small-blob-push',
  title: () => '4 KiB blob pushes/s',
  unit: 'blobs/s',
  target: 3,
  lowerIsBetter: false,
  repositories: [REPO],
  prepare() {
    blobPack(BLOB_COUNT, BLOB_SIZE);
  },
  async run(ctx) {
    const repo = ctx.repository(REPO);
    const { blobs, digests } = blobPack(BLOB_COUNT, BLOB_SIZE);
    const result = await runTasks(ctx.port, BLOB_COUNT, CONCURRENCY, (conn, i) =>
      pushBlob(conn, repo, blobs[i] as Buffer, digests[i] as string),
    );
    return { value: result.operations / (result.elapsedMs / 1000), latency: result.latency };
  },
};
