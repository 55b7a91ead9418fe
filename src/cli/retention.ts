/**
 * `berth retention`: applies the retention rules once to the store the configuration names,
 * while servers keep serving it (docs/retention.md). It takes the same lease as the servers'
 * scheduled runs, so it never runs alongside one.
 */
import { countsOf, type RetentionReport, runRetention } from '../retention/run.js';
import { openConfiguredStore } from './configured-store.js';
import { parseFlags } from './flags.js';
import { groupNamed, groupUsage } from './help.js';
import type { CliIo } from './io.js';
import { printTable } from './table.js';

/** Runs `berth retention`; resolves with the exit code. */
export async function retentionCommand(args: string[], io: CliIo): Promise<number> {
  const usage = groupUsage(groupNamed('retention'));
  const flags = parseFlags(
    'retention',
    args,
    { '--config': 'value', '--dry-run': 'switch', '--json': 'switch' },
    usage,
    { '-c': '--config' },
  );
  const json = flags['--json'] === true;
  const { config, driver } = await openConfiguredStore(flags['--config'], io);
  const outcome = await runRetention({
    driver,
    rules: config.retention.rules,
    immutable: config.tags.immutable,
    dryRun: flags['--dry-run'] === true,
    now: io.now,
  });
  if (!outcome.ran) {
    const holder = outcome.heldBy.holder;
    const until = new Date(outcome.heldBy.until).toISOString();
    io.stdout.write(
      json
        ? `${JSON.stringify({ skipped: { holder, until } })}\n`
        : `skipped: ${holder} is applying retention rules to this store (lease until ${until})\n`,
    );
    return 0;
  }
  if (json) io.stdout.write(`${JSON.stringify(outcome.value)}\n`);
  else printReport(io, outcome.value, config.retention.rules.length);
  return 0;
}

function printReport(io: CliIo, report: RetentionReport, rules: number): void {
  if (rules === 0) {
    io.stdout.write('no retention rules configured (retention.rules): nothing to do\n');
    return;
  }
  if (report.items.length > 0)
    printTable(
      io.stdout,
      ['KIND', 'REPOSITORY', 'ITEM', 'REASON'],
      report.items.map((item) => [item.kind, item.repository, item.item, item.reason]),
    );
  const counts = countsOf(report);
  const verb = report.dryRun ? 'would delete' : 'deleted';
  io.stdout.write(
    `${report.dryRun ? 'dry run: ' : ''}${report.repositories} repositories under a rule; ${verb} ${counts.tag} tags and ${counts.history} history entries; ${counts.manifest} untagged manifests go in the next GC run\n`,
  );
  if (report.raced > 0) io.stdout.write(`kept ${report.raced} tags that moved while the run decided\n`);
}
