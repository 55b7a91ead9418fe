/** Scenario e: many distinct OCI manifest PUTs by tag, concurrently. */
import { runTasks } from '../load.js';
import { imageManifest, OCI_MANIFEST, pushImageBlobs } from '../oci.js';
import { openConnection } from '../raw-http.js';
import { putManifest } from '../registry-client.js';
import type { Scenario } from './types.js';

const REPO = 'bench/manifest-put';
const MANIFEST_COUNT = 2000;
const CONCURRENCY = 32;

/** Pushes one config and one layer (untimed), then PUTs 2000 distinct manifests at concurrency 32. */
export const manifestPut: Scenario = {
  key: 'manifest-put',
  title: () => 'manifest PUT/s',
  unit: 'manifests/s',
  target: 2,
  lowerIsBetter: false,
  repositories: [REPO],
  async run(ctx) {
    const repo = ctx.repository(REPO);
    const setup = await openConnection(ctx.port);
    const blobs = await pushImageBlobs(setup, repo).finally(() => setup.close());
    const manifests = Array.from({ length: MANIFEST_COUNT }, (_, i) =>
      imageManifest(blobs, { 'org.example.bench.index': String(i) }),
    );
    const result = await runTasks(ctx.port, MANIFEST_COUNT, CONCURRENCY, (conn, i) =>
      putManifest(conn, repo, `tag-${i}`, manifests[i] as Buffer, OCI_MANIFEST),
    );
    return { value: result.operations / (result.elapsedMs / 1000), latency: result.latency };
  },
};
