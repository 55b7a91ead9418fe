/**
 * Scenario: publishing one large blob (1 GiB unless `--publish-mib` says otherwise). It is
 * pushed in 16 MiB PATCH chunks, then the final `PUT ?digest=` is timed on its own: the
 * publishing latency, what a client waits for after its last byte. Also reported: the whole
 * push's throughput, a full GET of the blob (byte count checked), and the server's peak RSS
 * during the push and during the GET (its high-water mark is reset before each).
 */
import { performance } from 'node:perf_hooks';
import { bulkPayload } from '../data.js';
import { openConnection } from '../raw-http.js';
import { BenchError, expectStatus, finishUpload, pushChunks, repoHead } from '../registry-client.js';
import { megabytesPerSecond } from '../stats.js';
import type { Measurement, MeasurementPart, Scenario, ScenarioContext } from './types.js';

const REPO = 'bench/publish';
const CHUNK_SIZE = 16 * 1024 * 1024;
const READ_BUFFER_SIZE = 1024 * 1024;
const STAMP = 31;

const mebibytes = (bytes: number) => bytes / 1024 / 1024;

/** Pushes the publish payload once in chunks, timing the commit alone, then GETs it once. */
export const publish: Scenario = {
  key: 'publish-1g',
  title: () => 'publish: final PUT ?digest= alone',
  unit: 'ms',
  target: undefined,
  lowerIsBetter: true,
  repositories: [REPO],
  longRunning: true,
  prepare(_bulkBytes, publishBytes) {
    bulkPayload(publishBytes).stamp(STAMP);
  },
  async run(ctx) {
    const repo = ctx.repository(REPO);
    const payload = bulkPayload(ctx.publishBytes);
    const size = payload.buffer.length;
    const digest = payload.stamp(STAMP);
    const conn = await openConnection(ctx.port, { readBufferSize: READ_BUFFER_SIZE });
    try {
      ctx.serverPeakRss.reset();
      const started = performance.now();
      const location = await pushChunks(conn, repo, payload.buffer, CHUNK_SIZE);
      const committing = performance.now();
      await finishUpload(conn, repo, location, digest);
      const pushed = performance.now();
      const pushPeak = ctx.serverPeakRss.read();

      ctx.serverPeakRss.reset();
      const path = `/v2/${REPO}/blobs/${digest}`;
      const response = await conn.request(repoHead(repo, 'GET', path));
      const pulled = performance.now();
      expectStatus(response, 200, `GET ${path}`);
      if (response.bodyLength !== size) {
        throw new BenchError(`GET ${path}: expected ${size} body bytes, got ${response.bodyLength}`);
      }
      const pullPeak = ctx.serverPeakRss.read();
      return measurement(ctx, {
        commitMs: pushed - committing,
        pushMBps: megabytesPerSecond(size, pushed - started),
        pullMBps: megabytesPerSecond(size, pulled - pushed),
        pushPeak,
        pullPeak,
      });
    } finally {
      conn.close();
    }
  },
};

interface Figures {
  commitMs: number;
  pushMBps: number;
  pullMBps: number;
  pushPeak: number;
  pullPeak: number;
}

function measurement(ctx: ScenarioContext, figures: Figures): Measurement {
  const mib = mebibytes(ctx.publishBytes);
  const chunks = Math.ceil(ctx.publishBytes / CHUNK_SIZE);
  const part = (key: string, title: string, unit: string, value: number, lowerIsBetter: boolean) =>
    ({ key, title, unit, value, lowerIsBetter }) satisfies MeasurementPart;
  return {
    title: `publish ${mib} MiB: final PUT ?digest= alone`,
    value: figures.commitMs,
    parts: [
      part(
        'push',
        `push ${mib} MiB (${chunks} x ${mebibytes(CHUNK_SIZE)} MiB PATCH + PUT)`,
        'MB/s',
        figures.pushMBps,
        false,
      ),
      part('push-rss', 'server peak RSS during the push', 'MiB', figures.pushPeak, true),
      part('pull', `GET of the ${mib} MiB blob`, 'MB/s', figures.pullMBps, false),
      part('pull-rss', 'server peak RSS during the GET', 'MiB', figures.pullPeak, true),
    ],
  };
}
