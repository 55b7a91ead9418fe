/**
 * Scenario: the catalog and a tags list at scale. Seeds Berth's store directly through its
 * driver with 10,000 repositories and 10,000 tags in one repository (pushing them would take
 * far longer and measure pushes), then times `GET /v2/_catalog?n=100` (the first page and one
 * from the middle) and `GET /v2/<name>/tags/list?n=100`, one request at a time.
 */
import { performance } from 'node:perf_hooks';
import type { StorageDriver } from '../../src/blobstore/driver.js';
import { layerLinkPath, tagPath } from '../../src/blobstore/layout.js';
import type { Digest } from '../../src/registry/digest.js';
import { forEachLimited } from '../../src/registry/limited.js';
import type { RepositoryName, Tag } from '../../src/registry/names.js';
import { markRepository } from '../../src/registry/repositories.js';
import { syncDisks } from '../child.js';
import { sha256Digest } from '../data.js';
import { openConnection, type RawConnection, responseHeader } from '../raw-http.js';
import { BenchError, expectStatus, type RepoTarget, repoHead } from '../registry-client.js';
import { createLatencyRecorder } from '../stats.js';
import type { Measurement, Scenario } from './types.js';

const REPO = 'bench/tags';
const COUNT = 10_000;
const PAGE = 100;
const WARMUP_REQUESTS = 10;
const TIMED_REQUESTS = 200;
const WRITES_IN_FLIGHT = 16;

const repositoryName = (i: number) => `bench/repo-${String(i).padStart(5, '0')}`;
const tagName = (i: number) => `t${String(i).padStart(5, '0')}`;

/** Seeds the store, then times the three listings. */
export const listings: Scenario = {
  key: 'listings',
  title: () => `_catalog?n=${PAGE}, first page, ${COUNT} repositories`,
  unit: 'ms',
  target: undefined,
  lowerIsBetter: true,
  repositories: [REPO],
  seedsStore: true,
  async run(ctx) {
    if (!ctx.openStore) throw new BenchError('listings: the server under test has no store to seed');
    const started = performance.now();
    await seed(await ctx.openStore());
    syncDisks();
    ctx.log(
      `  seeded ${COUNT} repositories and ${COUNT} tags in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
    const repo = ctx.repository(REPO);
    const conn = await openConnection(ctx.port);
    try {
      const middle = encodeURIComponent(repositoryName(COUNT / 2));
      const first = await timed(conn, repo, `/v2/_catalog?n=${PAGE}`, 'repositories');
      const fromMiddle = await timed(conn, repo, `/v2/_catalog?n=${PAGE}&last=${middle}`, 'repositories');
      const tags = await timed(conn, repo, `/v2/${REPO}/tags/list?n=${PAGE}`, 'tags');
      return {
        ...first,
        parts: [
          {
            key: 'middle',
            title: `_catalog?n=${PAGE}, a page from the middle`,
            unit: 'ms',
            lowerIsBetter: true,
            ...fromMiddle,
          },
          {
            key: 'tags',
            title: `tags/list?n=${PAGE}, ${COUNT} tags`,
            unit: 'ms',
            lowerIsBetter: true,
            ...tags,
          },
        ],
      };
    } finally {
      conn.close();
    }
  },
};

/**
 * 10,000 repositories as a blob push leaves them (a layer link and the catalog marker), and
 * one repository with 10,000 tags, written a few at a time.
 */
async function seed(driver: StorageDriver): Promise<void> {
  const indexes = Array.from({ length: COUNT }, (_, i) => i);
  const digest = sha256Digest(Buffer.from('bench listings')) as Digest;
  const empty = new Uint8Array(0);
  await markRepository(driver, REPO as RepositoryName);
  await forEachLimited(indexes, WRITES_IN_FLIGHT, async (i) => {
    const name = repositoryName(i) as RepositoryName;
    await Promise.all([markRepository(driver, name), driver.putContent(layerLinkPath(name, digest), empty)]);
    await driver.putContent(tagPath(REPO as RepositoryName, tagName(i) as Tag), Buffer.from(digest));
  });
}

/** Median (p50) and p99 milliseconds of GET `path`, one request at a time, each checked to be a full page. */
async function timed(
  conn: RawConnection,
  repo: RepoTarget,
  path: string,
  field: 'repositories' | 'tags',
): Promise<Measurement> {
  const head = repoHead(repo, 'GET', path);
  const latencies = createLatencyRecorder(TIMED_REQUESTS);
  for (let i = 0; i < WARMUP_REQUESTS + TIMED_REQUESTS; i++) {
    const started = performance.now();
    const response = await conn.request(head, { keepBody: true });
    const elapsed = performance.now() - started;
    expectStatus(response, 200, `GET ${path}`);
    const listed = (JSON.parse(response.body?.toString('utf8') ?? '{}') as Record<string, unknown>)[field];
    if (!Array.isArray(listed) || listed.length !== PAGE || !responseHeader(response, 'link')) {
      throw new BenchError(`GET ${path}: expected ${PAGE} ${field} and a Link header`);
    }
    if (i >= WARMUP_REQUESTS) latencies.record(elapsed);
  }
  const latency = latencies.summary();
  return { value: latency.p50Ms, latency };
}
