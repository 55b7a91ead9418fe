/**
 * Turns per-server results into the comparison the benchmark prints and saves: one entry per
 * metric (plus p50/p99 latency where measured), with the berth/distribution ratio and whether
 * it meets the target.
 */
import type { ServerReport } from './run.js';
import type { Measurement, MetricSpec } from './scenarios/types.js';
import { type BerthSetup, describeSetup } from './servers.js';
import { type Align, renderTable } from './table.js';

/** One line of the comparison. */
export interface ComparisonRow {
  key: string;
  title: string;
  unit: string;
  berth: number | undefined;
  distribution: number | undefined;
  /** berth / distribution. */
  ratio: number | undefined;
  /** Target ratio, for headline metrics only. */
  target: number | undefined;
  lowerIsBetter: boolean;
  /** Whether the ratio meets the target (undefined without a ratio or a target). */
  met: boolean | undefined;
}

/** Builds the comparison rows for `metrics` from the reports (distribution may be absent). */
export function compare(
  metrics: readonly MetricSpec[],
  berth: ServerReport,
  distribution: ServerReport | undefined,
  bulkMiB: number,
): ComparisonRow[] {
  const rows: ComparisonRow[] = [];
  const latencyRows = (key: string, indent: string, b: Measurement, d: Measurement | undefined) => {
    if (!b.latency) return;
    const { p50Ms, p99Ms } = b.latency;
    rows.push(row(`${key}.p50`, `${indent}p50 latency`, 'ms', p50Ms, d?.latency?.p50Ms, undefined, true));
    rows.push(row(`${key}.p99`, `${indent}p99 latency`, 'ms', p99Ms, d?.latency?.p99Ms, undefined, true));
  };
  for (const metric of metrics) {
    const b = berth.results[metric.key];
    const d = distribution?.results[metric.key];
    if (!b) continue;
    rows.push(
      row(
        metric.key,
        b.title ?? metric.title(bulkMiB),
        metric.unit,
        b.value,
        d?.value,
        metric.target,
        metric.lowerIsBetter,
      ),
    );
    latencyRows(metric.key, '  ', b, d);
    for (const part of b.parts ?? []) {
      const key = `${metric.key}.${part.key}`;
      const other = d?.parts?.find((p) => p.key === part.key);
      rows.push(
        row(key, `  ${part.title}`, part.unit, part.value, other?.value, undefined, part.lowerIsBetter),
      );
      latencyRows(key, '    ', part, other);
    }
  }
  return rows;
}

function row(
  key: string,
  title: string,
  unit: string,
  berth: number,
  distribution: number | undefined,
  target: number | undefined,
  lowerIsBetter: boolean,
): ComparisonRow {
  const ratio = distribution !== undefined && distribution > 0 ? berth / distribution : undefined;
  let met: boolean | undefined;
  if (ratio !== undefined && target !== undefined) met = lowerIsBetter ? ratio <= target : ratio >= target;
  return { key, title, unit, berth, distribution, ratio, target, lowerIsBetter, met };
}

/** A number with a precision suited to its size, and its unit. */
export function formatValue(value: number | undefined, unit: string): string {
  if (value === undefined || Number.isNaN(value)) return 'n/a';
  const digits = value >= 1000 ? 0 : value >= 100 ? 1 : value >= 1 ? 2 : 3;
  return `${value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })} ${unit}`;
}

function formatTarget(row: ComparisonRow): string {
  if (row.target === undefined) return row.lowerIsBetter ? '(lower is better)' : '';
  return row.lowerIsBetter
    ? `<= ${row.target.toFixed(1)}x (lower is better)`
    : `>= ${row.target.toFixed(1)}x`;
}

function formatVerdict(row: ComparisonRow): string {
  if (row.met === undefined) return '';
  return row.met ? 'met' : 'MISSED';
}

/**
 * The printed table: with distribution columns when `compared`, else Berth and the target only.
 * The Berth column's header says how Berth ran (storage, auth, workers); distribution always
 * runs on its filesystem without auth.
 */
export function renderComparison(
  rows: readonly ComparisonRow[],
  compared: boolean,
  setup: BerthSetup = { auth: 'none', storage: 'fs', workers: 1 },
): string {
  const berth = `berth (${describeSetup(setup).join(', ')})`;
  const distribution = setup.auth === 'none' ? 'distribution (fs)' : 'distribution (fs, no auth)';
  if (!compared) {
    const header = ['scenario', berth, 'target vs distribution'];
    return renderTable(
      header,
      rows.map((r) => [r.title, formatValue(r.berth, r.unit), formatTarget(r)]),
      ['left', 'right', 'left'],
    );
  }
  const header = ['scenario', berth, distribution, 'berth/distribution', 'target', 'verdict'];
  const align: Align[] = ['left', 'right', 'right', 'right', 'left', 'left'];
  return renderTable(
    header,
    rows.map((r) => [
      r.title,
      formatValue(r.berth, r.unit),
      formatValue(r.distribution, r.unit),
      r.ratio === undefined ? 'n/a' : `${r.ratio.toFixed(2)}x`,
      formatTarget(r),
      formatVerdict(r),
    ]),
    align,
  );
}
