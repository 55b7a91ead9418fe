/**
 * `berth team add|rm|ls|members`: teams of the policy file, which repository rules grant
 * actions to by name (`teams: { dev: [pull, push] }`). Members are user names; a name that is
 * not a user of the file is allowed (it may be an htpasswd user) with a warning.
 */
import { groupNamed, pickSubcommand } from './help.js';
import {
  CliError,
  type CliIo,
  noPositionals,
  onePositional,
  type ParsedArgs,
  parseCommandArgs,
  policyPath,
} from './io.js';
import {
  accountName,
  hasEntry,
  hasMember,
  type PolicyFile,
  removeMember,
  removeTeamReferences,
  setEntry,
  teamMembers,
} from './policy-document.js';
import { editPolicyFile, readPolicy, removeEntryFromFile } from './policy-file.js';
import { printTable } from './table.js';

/** Runs `berth team SUBCOMMAND ...` (`args` without `team`); resolves with the exit code. */
export async function teamCommand(args: string[], io: CliIo): Promise<number> {
  const { sub, usage, rest } = pickSubcommand(groupNamed('team'), args);
  const users = { type: 'string', multiple: true } as const;
  switch (sub.name) {
    case 'add':
      return teamAdd(parseCommandArgs(rest, { member: users }, usage), usage, io);
    case 'rm':
      return teamRemove(parseCommandArgs(rest, {}, usage), usage, io);
    case 'ls':
      return teamList(parseCommandArgs(rest, {}, usage), usage, io);
    default: // members: pickSubcommand lets no other name through
      return teamMembersCommand(parseCommandArgs(rest, { add: users, rm: users }, usage), usage, io);
  }
}

async function teamAdd(parsed: ParsedArgs, usage: string, io: CliIo): Promise<number> {
  const team = teamName(parsed, usage);
  const file = policyPath(parsed, io.env, usage);
  const members = [...new Set(userNames(parsed, 'member'))];
  await editPolicyFile(file, io.stderr, (policy) => {
    if (hasEntry(policy, 'teams', team)) throw new CliError(`team ${team} already exists in ${file}`);
    setEntry(policy, 'teams', team, members);
  });
  io.stdout.write(`added team ${team}${members.length > 0 ? ` (${members.join(', ')})` : ''} to ${file}\n`);
  return 0;
}

function teamRemove(parsed: ParsedArgs, usage: string, io: CliIo): Promise<number> {
  const team = teamName(parsed, usage);
  return removeEntryFromFile(policyPath(parsed, io.env, usage), 'team', team, io, (policy) =>
    removeTeamReferences(policy, team),
  );
}

async function teamList(parsed: ParsedArgs, usage: string, io: CliIo): Promise<number> {
  noPositionals(parsed, usage);
  const file = policyPath(parsed, io.env, usage);
  const { teams } = await readPolicy(file);
  if (teams.size === 0) io.stdout.write(`no teams in ${file}\n`);
  else
    printTable(
      io.stdout,
      ['NAME', 'MEMBERS'],
      [...teams].map(([team, members]) => [team, members.join(',') || '-']),
    );
  return 0;
}

/** `team members NAME`: lists the members, or with --add/--rm changes them. */
async function teamMembersCommand(parsed: ParsedArgs, usage: string, io: CliIo): Promise<number> {
  const team = teamName(parsed, usage);
  const file = policyPath(parsed, io.env, usage);
  const adding = userNames(parsed, 'add');
  const removing = userNames(parsed, 'rm');
  if (adding.length === 0 && removing.length === 0) {
    const members = (await readPolicy(file)).teams.get(team);
    if (!members) throw new CliError(`no team ${team} in ${file}`);
    for (const member of members) io.stdout.write(`${member}\n`);
    return 0;
  }
  await editPolicyFile(file, io.stderr, (policy) => changeMembers(policy, team, adding, removing));
  io.stdout.write(`changed the members of team ${team} in ${file}\n`);
  return 0;
}

function changeMembers(policy: PolicyFile, team: string, adding: string[], removing: string[]): void {
  const members = teamMembers(policy, team);
  if (!members) throw new CliError(`no team ${team} in ${policy.file}; add it with berth team add ${team}`);
  for (const user of removing) {
    if (!removeMember(members, user)) throw new CliError(`${user} is not a member of team ${team}`);
  }
  for (const user of adding) {
    if (hasMember(members, user)) throw new CliError(`${user} is already a member of team ${team}`);
    members.add(policy.document.createNode(user));
  }
}

function teamName(parsed: ParsedArgs, usage: string): string {
  return accountName(onePositional(parsed, usage), 'team');
}

/** The user names given with `--OPTION`, each checked. */
function userNames(parsed: ParsedArgs, option: string): string[] {
  const names = (parsed.values[option] as string[] | undefined) ?? [];
  return names.map((name) => accountName(name, 'user'));
}
