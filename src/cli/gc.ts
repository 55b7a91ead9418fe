/**
 * `berth gc`: one garbage collection run against the store the configuration names, while
 * servers keep serving it (docs/gc.md). It takes the same lease as the servers' scheduled runs,
 * so it never runs alongside one; made for a Kubernetes CronJob (deploy/k8s/gc-cronjob.yaml).
 */
import { formatReport } from '../gc/report.js';
import { runCollection } from '../gc/run.js';
import { TOMBSTONE_CHECK_OFF_VARIABLE } from '../registry/tombstones.js';
import { openConfiguredStore } from './configured-store.js';
import { parseFlags } from './flags.js';
import { groupNamed, groupUsage } from './help.js';
import type { CliIo } from './io.js';

/** Runs `berth gc`; resolves with the exit code. */
export async function gcCommand(args: string[], io: CliIo): Promise<number> {
  const usage = groupUsage(groupNamed('gc'));
  const flags = parseFlags(
    'gc',
    args,
    { '--config': 'value', '--dry-run': 'switch', '--json': 'switch' },
    usage,
    {
      '-c': '--config',
    },
  );
  const { config, driver } = await openConfiguredStore(flags['--config'], io);
  const recheck = io.env[TOMBSTONE_CHECK_OFF_VARIABLE] !== '1';
  if (!recheck)
    io.stderr.write(
      `${TOMBSTONE_CHECK_OFF_VARIABLE}=1: deleting without marking again; pushes may lose blobs\n`,
    );
  const progress = io.stderr.isTTY && !flags['--json'] ? progressLine(io) : undefined;
  const outcome = await runCollection({
    driver,
    gc: config.gc,
    retention: config.retention.rules,
    dryRun: flags['--dry-run'] === true,
    recheck,
    ...(progress ? { onProgress: progress } : {}),
  });
  if (progress) io.stderr.write('\r\x1b[K');
  if (!outcome.ran) {
    const until = new Date(outcome.heldBy.until).toISOString();
    if (flags['--json'])
      io.stdout.write(`${JSON.stringify({ skipped: { holder: outcome.heldBy.holder, until } })}\n`);
    else
      io.stdout.write(
        `skipped: ${outcome.heldBy.holder} is collecting garbage on this store (lease until ${until})\n`,
      );
    return 0;
  }
  io.stdout.write(
    flags['--json'] ? `${JSON.stringify(outcome.value)}\n` : `${formatReport(outcome.value)}\n`,
  );
  return 0;
}

/** A line on a terminal that says which phase runs and how far it is. */
function progressLine(io: CliIo) {
  return (phase: string, done: number, total: number) => {
    const count = total > 0 ? ` ${done}/${total}` : '';
    io.stderr.write(`\r\x1b[Kgc: ${phase}${count}`);
  };
}
