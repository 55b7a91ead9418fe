/**
 * What every `berth` command is called with and what it does: one table that `berth --help`,
 * `berth GROUP --help`, `berth GROUP COMMAND --help` and usage errors are all printed from,
 * so the texts cannot disagree.
 */
import { didYouMean } from '../text/nearest.js';
import { CliError, HelpRequest } from './io.js';

/** One command: its arguments and a sentence or two about it. */
export interface CommandHelp {
  name: string;
  /** The arguments after the command's name. */
  args: string;
  /** Lines of description. */
  about: string[];
}

/** A top-level command and, for `user`, `team` and so on, its subcommands. */
export interface CommandGroup {
  name: string;
  args: string;
  about: string[];
  subcommands: CommandHelp[];
  /** Printed under the group's and its subcommands' usage. */
  notes: string[];
}

const POLICY_NOTE = 'Edits the policy file given with --policy FILE (or BERTH_AUTH_POLICY).';

const REGISTRY_NOTE = [
  'Talks to the registry at --registry URL, else at http.addr of the',
  'configuration (--config FILE or BERTH_CONFIG). Logs in with --username',
  'USER --password-stdin, else with what docker login saved.',
].join('\n');

/** Every top-level command, in the order `berth --help` lists them. */
export const GROUPS: CommandGroup[] = [
  {
    name: 'serve',
    args: '[--config FILE] [--workers N]',
    about: [
      'Run the registry (default: 0.0.0.0:5000, data in ./data).',
      'FILE may also come from BERTH_CONFIG; BERTH_* variables',
      'override single keys (BERTH_HTTP_ADDR=127.0.0.1:5001).',
      'N processes share the port (http.workers; auto: one per CPU).',
    ],
    subcommands: [],
    notes: [],
  },
  {
    name: 'healthcheck',
    args: '[--config FILE]',
    about: [
      'Exit 0 if the Berth this configuration describes answers',
      'GET /readyz with 200, else 1 (for a container HEALTHCHECK).',
    ],
    subcommands: [],
    notes: [],
  },
  {
    name: 'purge',
    args: '[--config FILE] [--age DURATION] [--dry-run]',
    about: [
      'Delete upload sessions idle longer than --age (default:',
      'storage.maintenance.uploadpurging.age) from the configured store,',
      "once: a scheduled job instead of every server's timer.",
    ],
    subcommands: [],
    notes: [],
  },
  {
    name: 'gc',
    args: '[--config FILE] [--dry-run] [--json]',
    about: [
      'Collect garbage once on the configured store, while servers',
      'keep serving it: delete blobs and layer links no manifest',
      'references (older than gc.graceperiod). --dry-run only reports.',
    ],
    subcommands: [],
    notes: [],
  },
  {
    name: 'retention',
    args: '[--config FILE] [--dry-run] [--json]',
    about: [
      'Apply the retention rules (retention.rules) once to the',
      'configured store, while servers keep serving it: delete tags',
      'the rules do not keep, expire tag history, and list the',
      'untagged manifests that go in the next GC run.',
      '--dry-run only reports.',
    ],
    subcommands: [],
    notes: [],
  },
  {
    name: 'fsck',
    args: '[--config FILE] [--repair] [--json] [--older-than DURATION]',
    about: [
      'Check the configured store, safely while servers run: every',
      "blob's bytes, every manifest's references, every tag, and",
      'leftovers of crashes older than --older-than (default 24h).',
      'With --repair, quarantine what is broken under /quarantine/',
      'and delete the leftovers. Exit 0 when clean (or repaired),',
      '1 when something is broken, 2 for a usage or config error.',
    ],
    subcommands: [],
    notes: [],
  },
  {
    name: 'config',
    args: '<command>',
    about: ['Check configuration.'],
    subcommands: [
      {
        name: 'check',
        args: 'FILE',
        about: [
          'Validate a configuration file (and BERTH_* overrides), and',
          'the policy and htpasswd files it names, without starting.',
        ],
      },
    ],
    notes: [],
  },
  {
    name: 'user',
    args: '<command>',
    about: ['Password users of the policy file.'],
    subcommands: [
      {
        name: 'add',
        args: 'NAME [--admin] [--password-stdin]',
        about: ['Add a user; asks for the password twice (or reads', 'one line from stdin).'],
      },
      { name: 'passwd', args: 'NAME [--password-stdin]', about: ["Change a user's password."] },
      { name: 'rm', args: 'NAME', about: ['Remove a user, also from teams and repository rules.'] },
      { name: 'ls', args: '', about: ['List users, whether they are admins, and their teams.'] },
    ],
    notes: [POLICY_NOTE],
  },
  {
    name: 'team',
    args: '<command>',
    about: ['Teams of the policy file, for use in repository rules.'],
    subcommands: [
      { name: 'add', args: 'NAME [--member USER ...]', about: ['Add a team, optionally with members.'] },
      { name: 'rm', args: 'NAME', about: ['Remove a team, also from repository rules.'] },
      { name: 'ls', args: '', about: ['List teams and their members.'] },
      {
        name: 'members',
        args: 'NAME [--add USER ...] [--rm USER ...]',
        about: ['Add or remove members; without options, list them.'],
      },
    ],
    notes: [POLICY_NOTE],
  },
  {
    name: 'robot',
    args: '<command>',
    about: ['Robot accounts for automation, scoped to repositories.'],
    subcommands: [
      {
        name: 'add',
        args: 'NAME --scope repository:PATTERN:ACTIONS [--scope ...]\n[--expires 90d] [--description TEXT]',
        about: ['Add a robot account robot$NAME; prints its secret once.'],
      },
      { name: 'rm', args: 'NAME', about: ['Remove a robot account.'] },
      { name: 'ls', args: '', about: ['List robot accounts with their scopes and expiry.'] },
    ],
    notes: [POLICY_NOTE],
  },
  {
    name: 'tag',
    args: '<command>',
    about: ['Tag history and rollback, through a running registry.'],
    subcommands: [
      {
        name: 'history',
        args: 'REPO:TAG [--json] [-n N]',
        about: ['Every move of a tag, newest first: digest, action, time,', 'who and from where.'],
      },
      {
        name: 'rollback',
        args: 'REPO:TAG [--to DIGEST | --steps N]',
        about: [
          'Move a tag back to a digest, or N moves back (default 1);',
          'recorded as a move of its own.',
        ],
      },
    ],
    notes: [REGISTRY_NOTE],
  },
  {
    name: 'repo',
    args: '<command>',
    about: ['Repositories of a running registry.'],
    subcommands: [
      {
        name: 'rm',
        args: 'NAME [--yes]',
        about: [
          'Delete a repository: tags, history, manifests, links,',
          'uploads. Blob data stays until GC.',
        ],
      },
    ],
    notes: [REGISTRY_NOTE],
  },
  {
    name: 'token',
    args: '<command>',
    about: ['Registry tokens.'],
    subcommands: [
      {
        name: 'inspect',
        args: 'TOKEN|-',
        about: ['Decode a registry token without verifying it ("-" reads', 'it from standard input).'],
      },
    ],
    notes: [],
  },
  {
    name: 'agent',
    args: '<command>',
    about: ['Pull images and run them as containers with runc', '(berth agent --help lists its commands).'],
    subcommands: [],
    notes: [],
  },
];

const COLUMN = 28;

/** `berth --help`: every command and subcommand. */
export function topUsage(): string {
  const lines = ['Usage: berth <command> [options]', '', 'Commands:'];
  for (const group of GROUPS) {
    if (group.subcommands.length === 0) lines.push(...entry(`${group.name} ${group.args}`, group.about));
    for (const sub of group.subcommands)
      lines.push(...entry(`${group.name} ${sub.name} ${sub.args}`, sub.about));
  }
  lines.push(
    '',
    'The user, team and robot commands edit the policy file given with --policy FILE',
    '(or BERTH_AUTH_POLICY).',
    '',
    'Options:',
    ...entry('-h, --help', ["Show this help (after a command: that command's)."]),
    ...entry('-v, --version', ['Print the version.']),
  );
  return `${lines.join('\n')}\n`;
}

/** `berth GROUP --help`: the group's subcommands. */
export function groupUsage(group: CommandGroup): string {
  if (group.subcommands.length === 0)
    return commandText(`berth ${group.name} ${group.args}`, group.about, []);
  const lines = [`Usage: berth ${group.name} <command>`, '', ...group.about, '', 'Commands:'];
  for (const sub of group.subcommands)
    lines.push(...entry(`${sub.name} ${withPolicy(group, sub.args)}`, sub.about));
  if (group.notes.length > 0) lines.push('', ...group.notes);
  return `${lines.join('\n')}\n`;
}

/** `berth GROUP COMMAND --help`: one subcommand. */
export function subcommandUsage(group: CommandGroup, sub: CommandHelp): string {
  return commandText(
    `berth ${group.name} ${sub.name} ${withPolicy(group, sub.args)}`,
    sub.about,
    group.notes,
  );
}

/** The group called `name`; the table is fixed, so a missing one is a programming error. */
export function groupNamed(name: string): CommandGroup {
  const group = GROUPS.find((candidate) => candidate.name === name);
  if (!group) throw new Error(`no help for berth ${name}`);
  return group;
}

/**
 * The subcommand of `group` that `args` (the words after the group) call, its usage text and
 * its own arguments. No name, `help`, `-h` or `--help` asks for the group's usage; an unknown
 * name is a usage error suggesting the nearest.
 */
export function pickSubcommand(
  group: CommandGroup,
  args: string[],
): { sub: CommandHelp; usage: string; rest: string[] } {
  const [name, ...rest] = args;
  if (name === undefined)
    throw new CliError(`missing ${group.name} command\n\n${groupUsage(group).trimEnd()}`);
  if (name === 'help' || name === '-h' || name === '--help') throw new HelpRequest(groupUsage(group));
  const sub = group.subcommands.find((candidate) => candidate.name === name);
  if (!sub) {
    const names = group.subcommands.map((candidate) => candidate.name);
    throw new CliError(
      `unknown ${group.name} command "${name}"${commandTypoHint(name, names)}\n\n${groupUsage(group).trimEnd()}`,
    );
  }
  return { sub, usage: subcommandUsage(group, sub), rest };
}

/** ` (did you mean NAME?)` when one of `candidates` is a likely typo of `word`, else ''. */
export function commandTypoHint(word: string, candidates: string[]): string {
  // Short words tolerate fewer edits: "ad" is a typo of "add", not of "rm".
  return didYouMean(word, candidates, Math.min(3, Math.max(1, Math.floor(word.length / 2))));
}

function withPolicy(group: CommandGroup, args: string): string {
  return group.notes.includes(POLICY_NOTE) ? `${args} [--policy FILE]`.trim() : args;
}

function commandText(synopsis: string, about: string[], notes: string[]): string {
  const [first, ...more] = synopsis.trim().split('\n');
  const lines = [`Usage: ${first}`, ...more.map((line) => `         ${line}`), '', ...about];
  if (notes.length > 0) lines.push('', ...notes);
  return `${lines.join('\n')}\n`;
}

/**
 * A synopsis (its continuation lines indented) and its description in two columns; a
 * synopsis too wide for the first column gets lines of its own.
 */
function entry(synopsis: string, about: string[]): string[] {
  const [first = '', ...more] = synopsis.trim().split('\n');
  const left = [`  ${first}`, ...more.map((line) => `      ${line}`)];
  const indent = ' '.repeat(COLUMN);
  const last = left.at(-1) as string;
  if (last.length >= COLUMN - 1) return [...left, ...about.map((line) => indent + line)];
  const [head = '', ...rest] = about;
  return [...left.slice(0, -1), last.padEnd(COLUMN) + head, ...rest.map((line) => indent + line)];
}
