/** Every metric the benchmark reports, in report order. */
import { blobHead } from './blob-head.js';
import { chunkedPush } from './chunked-push.js';
import { dockerPushPull } from './docker.js';
import { gc } from './gc.js';
import { listings } from './listings.js';
import { manifestGet } from './manifest-get.js';
import { manifestPut } from './manifest-put.js';
import { monolithicPush } from './monolithic-push.js';
import { publish } from './publish.js';
import { pull } from './pull.js';
import { smallBlobPush } from './small-blob-push.js';
import { soak } from './soak.js';
import { tokenIssue } from './token-issue.js';
import type { MetricSpec, Scenario } from './types.js';

/** The load scenarios, in the order they run. */
export const SCENARIOS: readonly Scenario[] = [
  monolithicPush,
  chunkedPush,
  pull,
  smallBlobPush,
  manifestPut,
  manifestGet,
  blobHead,
  tokenIssue,
  dockerPushPull,
  listings,
  gc,
  soak,
  publish,
];

/** Peak RSS of the server over the whole run, read from /proc just before it stops. */
export const PEAK_RSS: MetricSpec = {
  key: 'peak-rss',
  title: () => 'peak RSS',
  unit: 'MiB',
  target: 1.5,
  lowerIsBetter: true,
};

/** All reported metrics: the scenarios, then peak RSS. */
export const METRICS: readonly MetricSpec[] = [...SCENARIOS, PEAK_RSS];
