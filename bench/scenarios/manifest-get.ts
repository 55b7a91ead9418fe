/** Scenario f: GET of one manifest by tag, closed loop on keep-alive connections. */
import { runClosedLoop } from '../load.js';
import { imageManifest, OCI_MANIFEST, pushImageBlobs } from '../oci.js';
import { openConnection } from '../raw-http.js';
import { putManifest, repoHead } from '../registry-client.js';
import type { Scenario } from './types.js';

const REPO = 'bench/manifest-get';
const TAG = 'latest';

/** Pushes one image (untimed), then GETs its manifest by tag for the configured duration. */
export const manifestGet: Scenario = {
  key: 'manifest-get',
  title: () => 'manifest GET req/s',
  unit: 'req/s',
  target: 5,
  lowerIsBetter: false,
  repositories: [REPO],
  async run(ctx) {
    const repo = ctx.repository(REPO);
    const setup = await openConnection(ctx.port);
    let manifest: Buffer;
    try {
      manifest = imageManifest(await pushImageBlobs(setup, repo), { 'org.example.bench': 'get' });
      await putManifest(setup, repo, TAG, manifest, OCI_MANIFEST);
    } finally {
      setup.close();
    }
    const path = `/v2/${REPO}/manifests/${TAG}`;
    const head = Buffer.from(repoHead(repo, 'GET', path, { Accept: OCI_MANIFEST }), 'latin1');
    const request = {
      head,
      headOnly: false,
      expectedStatus: 200,
      expectedBodyLength: manifest.length,
      what: `GET ${path}`,
    };
    const result = await runClosedLoop(ctx.port, request, ctx.concurrency, ctx.warmupMs, ctx.durationMs);
    return { value: result.operations / (result.elapsedMs / 1000), latency: result.latency };
  },
};
