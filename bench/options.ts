/** Command-line options of `npm run bench`. */
import { parseArgs } from 'node:util';
import type { AuthMode } from './auth.js';
import { METRICS, SCENARIOS } from './scenarios/index.js';
import { STORAGE_KINDS, type StorageKind } from './storage.js';

/** Parsed options. */
export interface BenchOptions {
  /** Also run CNCF distribution (always without auth) and print ratios. */
  compare: boolean;
  /** Auth Berth runs with. */
  auth: AuthMode;
  /** Where Berth keeps its data (distribution: always its filesystem). */
  storage: StorageKind;
  /** Berth's `http.workers`: 1 is a single process. */
  workers: number;
  /** Metric keys to run, in report order. */
  only: string[];
  /** Measured seconds of the fixed-duration scenarios. */
  durationSeconds: number;
  /** Unmeasured warm-up seconds before them. */
  warmupSeconds: number;
  /** Connections of the fixed-duration scenarios. */
  concurrency: number;
  /** Blob size of the bulk scenarios, in MiB. */
  sizeMiB: number;
  /** Length of the soak, in minutes. */
  soakMinutes: number;
  /** Blob size of publish-1g, in MiB. */
  publishMiB: number;
  /** Print JSON only. */
  json: boolean;
  /** Measure the client against a trivial HTTP server instead of benchmarking registries. */
  clientCheck: boolean;
  help: boolean;
}

/** Scenarios that only run against Berth with token auth. */
const authOnly = SCENARIOS.filter((s) => s.needsAuth).map((s) => s.key);
/** Scenarios that drive the docker CLI: they need dockerd, so they run only when named. */
const dockerOnly = SCENARIOS.filter((s) => s.needsDocker).map((s) => s.key);
/** Scenarios that seed Berth's store first, which takes a while: they run only when named. */
const seedingOnly = SCENARIOS.filter((s) => s.seedsStore).map((s) => s.key);
/** Scenarios that run for minutes or move a GiB: they run only when named. */
const longOnly = SCENARIOS.filter((s) => s.longRunning).map((s) => s.key);

/** Usage text for --help and option errors. */
export const USAGE = `usage: npm run bench -- [options]

  --compare              also benchmark CNCF distribution (/usr/bin/docker-registry) and print ratios
  --auth none|token      run Berth with token auth; the client fetches a token per repository
                         first (default none; distribution always runs without auth)
  --only <key>[,<key>]   run a subset: ${METRICS.map((m) => m.key).join(', ')}
                         (${authOnly.join(', ')} only with --auth token; ${dockerOnly.join(', ')}
                         only when named, it needs a running dockerd; ${seedingOnly.join(', ')}
                         only when named, it seeds the store first, and on Berth only;
                         ${longOnly.join(', ')} only when named, they run for minutes)
  --storage fs|s3        where Berth keeps its data: a temp directory, or s3rver behind the tests'
                         S3 proxy (conditional writes enforced), started for the run (default fs;
                         not with --compare: distribution would still run on its filesystem)
  --workers <n>          run Berth with http.workers = n; peak RSS sums all its processes (default 1)
  --duration <seconds>   measured time of manifest-get, blob-head and token (default 5)
  --warmup <seconds>     unmeasured warm-up before them (default 1)
  --concurrency <n>      connections for manifest-get, blob-head and token (default 32)
  --size-mib <n>         blob size of the push and pull scenarios (default 256)
  --soak-minutes <n>     length of the soak (default 10)
  --publish-mib <n>      blob size of publish-1g (default 1024)
  --json                 print the results as JSON only
  --client-check         measure the load generator against a trivial HTTP server
  --help                 this text

Results are also written to .bench/results.json.`;

/** A bad command line; main prints it with the usage text. */
export class UsageError extends Error {
  override name = 'UsageError';
}

function positive(name: string, text: string | undefined, fallback: number, integer: boolean): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0 || (integer && !Number.isInteger(value))) {
    throw new UsageError(
      `--${name} expects a positive ${integer ? 'integer' : 'number'}, got ${JSON.stringify(text)}`,
    );
  }
  return value;
}

/** Parses `argv` (without node and script). */
export function parseOptions(argv: string[]): BenchOptions {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const { values } = parsed;
  const auth = values.auth ?? 'none';
  if (auth !== 'none' && auth !== 'token')
    throw new UsageError(`--auth expects none or token, got ${JSON.stringify(auth)}`);
  const storage = values.storage ?? 'fs';
  if (!(STORAGE_KINDS as readonly string[]).includes(storage))
    throw new UsageError(`--storage expects ${STORAGE_KINDS.join(' or ')}, got ${JSON.stringify(storage)}`);
  // Distribution has no s3rver setup worth comparing: a ratio would set s3rver against ext4.
  if (storage !== 'fs' && values.compare === true)
    throw new UsageError(
      `--compare runs distribution on its filesystem: it cannot be combined with --storage ${storage}`,
    );
  const known = METRICS.map((m) => m.key);
  // Without auth the token scenarios have nothing to measure, the docker ones need a docker
  // daemon and the seeding ones take long, so "everything" leaves them out.
  let only = known.filter(
    (key) =>
      !dockerOnly.includes(key) &&
      !seedingOnly.includes(key) &&
      !longOnly.includes(key) &&
      (auth === 'token' || !authOnly.includes(key)),
  );
  if (values.only !== undefined) {
    const asked = values.only
      .split(',')
      .map((key) => key.trim())
      .filter((key) => key !== '');
    const unknown = asked.filter((key) => !known.includes(key));
    if (unknown.length > 0 || asked.length === 0) {
      throw new UsageError(
        `--only: unknown scenario ${unknown.join(', ') || '(none given)'}; known: ${known.join(', ')}`,
      );
    }
    only = known.filter((key) => asked.includes(key));
    const needAuth = only.filter((key) => authOnly.includes(key));
    if (auth === 'none' && needAuth.length > 0)
      throw new UsageError(`--only ${needAuth.join(', ')}: needs --auth token`);
  }
  return {
    compare: values.compare === true,
    auth,
    storage: storage as StorageKind,
    workers: positive('workers', values.workers, 1, true),
    only,
    durationSeconds: positive('duration', values.duration, 5, false),
    warmupSeconds: values.warmup === '0' ? 0 : positive('warmup', values.warmup, 1, false),
    concurrency: positive('concurrency', values.concurrency, 32, true),
    sizeMiB: positive('size-mib', values['size-mib'], 256, true),
    soakMinutes: positive('soak-minutes', values['soak-minutes'], 10, false),
    publishMiB: positive('publish-mib', values['publish-mib'], 1024, true),
    json: values.json === true,
    clientCheck: values['client-check'] === true,
    help: values.help === true,
  };
}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      compare: { type: 'boolean' },
      auth: { type: 'string' },
      storage: { type: 'string' },
      workers: { type: 'string' },
      only: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      concurrency: { type: 'string' },
      'size-mib': { type: 'string' },
      'soak-minutes': { type: 'string' },
      'publish-mib': { type: 'string' },
      json: { type: 'boolean' },
      'client-check': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
