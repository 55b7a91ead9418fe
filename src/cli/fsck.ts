/**
 * `berth fsck [--repair] [--json] [--older-than DURATION] [--config FILE]`: checks the store
 * the configuration names (src/fsck/), prints what is broken as a table (or JSON for scripts)
 * and exits 0 when the store is clean or was repaired, 1 when something is broken, 2 for a
 * usage or configuration error.
 */
import { checkedDriver } from '../blobstore/checked.js';
import { createConfiguredDriver } from '../blobstore/create-driver.js';
import { loadConfig } from '../config/load.js';
import { parseDuration } from '../config/values.js';
import { type FsckReport, isClean } from '../fsck/findings.js';
import { runFsck } from '../fsck/fsck.js';
import { groupNamed, groupUsage } from './help.js';
import { CliError, type CliIo, HelpRequest, type TextOut } from './io.js';
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
  const flags = parseFlags(args, io.env.BERTH_CONFIG || undefined);
  const { config } = await loadConfig(flags.config, io.env);
  const { driver } = await createConfiguredDriver(config.storage);
  const started = new Date(io.now());
  const progress = progressLine(io.stderr);
  const report = await runFsck(checkedDriver(driver), {
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

function parseFlags(args: string[], configFromEnv: string | undefined): FsckFlags {
  const usage = groupUsage(groupNamed('fsck'));
  const flags: FsckFlags = {
    config: configFromEnv,
    repair: false,
    json: false,
    olderThan: DEFAULT_OLDER_THAN_MS,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const value = () => {
      const next = args[++i];
      if (next === undefined) throw new CliError(`${arg} needs a value\n${usage}`, 2);
      return next;
    };
    if (arg === '-h' || arg === '--help') throw new HelpRequest(usage);
    else if (arg === '--repair') flags.repair = true;
    else if (arg === '--json') flags.json = true;
    else if (arg === '--config' || arg === '-c') flags.config = value();
    else if (arg === '--older-than') flags.olderThan = durationOf(value(), usage);
    else throw new CliError(`fsck: unexpected argument "${arg}"\n${usage}`, 2);
  }
  return flags;
}

function durationOf(text: string, usage: string): number {
  try {
    return parseDuration(text);
  } catch (err) {
    throw new CliError(`--older-than: ${(err as Error).message}\n${usage}`, 2);
  }
}
