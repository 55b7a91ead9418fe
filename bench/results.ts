/** The JSON document of a run, as printed by --json and saved to .bench/results.json. */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import type { BenchOptions } from './options.js';
import type { ComparisonRow } from './report.js';
import type { ServerReport } from './run.js';

/** Everything a run produced. */
export interface BenchResults {
  generatedAt: string;
  machine: { cpus: number; cpuModel: string; memoryMiB: number; node: string; platform: string };
  options: BenchOptions;
  /** Set when --compare was asked for but distribution could not be run. */
  note?: string;
  servers: ServerReport[];
  comparison: ComparisonRow[];
}

/** Assembles the results document. */
export function buildResults(
  options: BenchOptions,
  servers: ServerReport[],
  comparison: ComparisonRow[],
  note: string | undefined,
): BenchResults {
  const cpuList = cpus();
  return {
    generatedAt: new Date().toISOString(),
    machine: {
      cpus: cpuList.length,
      cpuModel: cpuList[0]?.model ?? 'unknown',
      memoryMiB: Math.round(totalmem() / 1024 / 1024),
      node: process.version,
      platform: `${process.platform}-${process.arch}`,
    },
    options,
    ...(note ? { note } : {}),
    servers,
    comparison,
  };
}

/** Writes `results` to <projectRoot>/.bench/results.json; returns the path. */
export async function saveResults(projectRoot: string, results: BenchResults): Promise<string> {
  const dir = join(projectRoot, '.bench');
  await mkdir(dir, { recursive: true });
  const file = join(dir, 'results.json');
  await writeFile(file, `${JSON.stringify(results, null, 2)}\n`);
  return file;
}
