/**
 * `berth fsck [--repair] [--json] [--older-than DURATION] [--config FILE]`: checks the store
 * the configuration names (src/fsck/), prints what is broken as a table (or JSON for scripts)
 * and exits 0 when the store is clean or was repaired, 1 when something is broken, 2 for a
 * usage or configuration error.
 */
import { type FsckReport, isClean } from '../fsck/findings.js';
import { runFsck } from '../fsck/fsck.js';
import { openConfiguredStore } from './configured-store.js';
import { durationFlag, parseFlags } from './flags.js';
import { groupNamed, groupUsage } from './help.js';
import type { CliIo, TextOut } from './io.js';
import { printTable } from './table.js';

/** Leftovers younger than this are left alone: a writer may still be at work on them. */
const DEFAULT_OLDER_THAN_MS = 24 * 3_600_000;

/**
 * The least age, whatever --older-than says: S3 lists modification times in whole seconds,
 * and the store's clock may differ from ours, so an object written just after the run began
 * could look older than a cutoff taken at that moment and lose its upload session's
 * protection (leftover-sweep.ts).
 */
const MIN_OLDER_THAN_MS = 60_000;

interface FsckFlags {
  config: string | undefined;
  repair: boolean;
  json: boolean;
  olderThan: number;
}

/** Runs `berth fsck`; resolves with the exit code. */
export async function fsckCommand(args: string[], io: CliIo): Promise<number> {
  const flags = fsckFlags(args);
  const { driver } = await openConfiguredStore(flags.config, io);
  const started = new Date(io.now());
  const progress = progressLine(io.stderr);
  const report = await runFsck(driver, {
    repair: flags.repair,
    cutoff: new Date(started.getTime() - Math.max(flags.olderThan, MIN_OLDER_THAN_MS)),
    started,
    ...(progress ? { progress } : {}),
  });
  if (progress) io.stderr.write('\r\x1b[K');
  if (flags.json) io.stdout.write(`${JSON.stringify({ clean: isClean(report), ...report }, null, 2)}\n`);
  else printReport(io.stdout, report);
  return isClean(report) ? 0 : 1;
}

function printReport(out: TextOut, report: FsckReport): void {
  const repaired = report.quarantine !== undefined;
  const rows = [
    ...report.broken.map((finding) => [finding.kind, finding.item, finding.problem, finding.action ?? '']),
    ...report.leftovers.map((leftover) => [
      'leftover',
      leftover.path,
      `${leftover.kind}, ${leftover.size} bytes, last written ${leftover.modTime}`,
      leftover.action ?? '',
    ]),
  ].map((row) => (repaired ? row : row.slice(0, 3)));
  const header = ['KIND', 'ITEM', 'PROBLEM', ...(repaired ? ['ACTION'] : [])];
  if (rows.length > 0) printTable(out, header, rows);
  const { blobs, bytes, repositories, manifests, tags, referrers } = report.checked;
  out.write(
    `checked ${blobs} blobs (${(bytes / 1024 / 1024).toFixed(1)} MiB), ${repositories} repositories, ` +
      `${manifests} manifests, ${tags} tags, ${referrers} referrers entries: ` +
      `${report.broken.length} broken, ${report.leftovers.length} leftovers\n`,
  );
  if (report.quarantine && report.broken.length > 0)
    out.write(`quarantined items are under ${report.quarantine}\n`);
  out.write(isClean(report) ? 'clean\n' : 'not clean: run berth fsck --repair\n');
}

/** A progress line rewritten in place on a terminal; nothing elsewhere (a log, a pipe). */
function progressLine(err: TextOut): ((line: string) => void) | undefined {
  if (!(err as { isTTY?: boolean }).isTTY) return undefined;
  let last = 0;
  return (line) => {
    const now = Date.now();
    if (now - last < 200) return;
    last = now;
    err.write(`\r\x1b[Kfsck: ${line}`);
  };
}

/** Usage and configuration errors exit 2: 1 means the store has something broken. */
const USAGE_EXIT = 2;

function fsckFlags(args: string[]): FsckFlags {
  const usage = groupUsage(groupNamed('fsck'));
  const flags = parseFlags(
    'fsck',
    args,
    { '--config': 'value', '--repair': 'switch', '--json': 'switch', '--older-than': 'value' },
    usage,
    { '-c': '--config' },
    USAGE_EXIT,
  );
  const olderThan = flags['--older-than'];
  return {
    config: flags['--config'] as string | undefined,
    repair: flags['--repair'] === true,
    json: flags['--json'] === true,
    olderThan:
      typeof olderThan === 'string'
        ? durationFlag('--older-than', olderThan, usage, USAGE_EXIT)
        : DEFAULT_OLDER_THAN_MS,
  };
}
