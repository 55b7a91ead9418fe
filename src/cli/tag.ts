/**
 * `berth tag history REPO:TAG` and `berth tag rollback REPO:TAG`: a tag's moves, and moving
 * it back, through a running registry's endpoints (docs/tags.md).
 */

import { isValidName, isValidTag } from '../registry/names.js';
import { groupNamed, pickSubcommand } from './help.js';
import { CliError, type CliIo, onePositional, type ParsedArgs, parseCommandArgs } from './io.js';
import { REGISTRY_OPTIONS, type RegistryHttp, registryHttp } from './registry-http.js';
import { printTable } from './table.js';

/** One entry as the history endpoint sends it. */
interface Entry {
  digest: string;
  action: string;
  time: string;
  actor: string;
  address: string;
}

/** Runs `berth tag SUBCOMMAND ...` (`args` without `tag`); resolves with the exit code. */
export async function tagCommand(args: string[], io: CliIo): Promise<number> {
  const { sub, usage, rest } = pickSubcommand(groupNamed('tag'), args);
  if (sub.name === 'history') {
    const options = {
      ...REGISTRY_OPTIONS,
      json: { type: 'boolean' },
      n: { type: 'string', short: 'n' },
    } as const;
    return tagHistory(parseCommandArgs(rest, options, usage), usage, io);
  }
  const options = {
    ...REGISTRY_OPTIONS,
    to: { type: 'string' },
    steps: { type: 'string' },
    json: { type: 'boolean' },
  } as const;
  return tagRollback(parseCommandArgs(rest, options, usage), usage, io);
}

async function tagHistory(parsed: ParsedArgs, usage: string, io: CliIo): Promise<number> {
  const { name, tag } = tagReference(onePositional(parsed, usage), usage);
  const limit = parsed.values.n === undefined ? undefined : wholeNumber('-n', parsed.values.n as string, 0);
  const registry = await registryHttp(parsed, io);
  const history = await readHistory(registry, `/v2/${name}/_berth/tags/${tag}/history`, limit);
  if (parsed.values.json === true) {
    io.stdout.write(`${JSON.stringify({ name, tag, history }, null, 2)}\n`);
    return 0;
  }
  printTable(
    io.stdout,
    ['TIME', 'ACTION', 'DIGEST', 'ACTOR', 'ADDRESS'],
    history.map((entry) => [entry.time, entry.action, entry.digest, entry.actor, entry.address]),
  );
  return 0;
}

/** Every entry, following `Link` from page to page, or the first `limit` of them. */
async function readHistory(
  registry: RegistryHttp,
  path: string,
  limit: number | undefined,
): Promise<Entry[]> {
  const entries: Entry[] = [];
  let next: string | undefined = limit === undefined ? path : `${path}?n=${limit}`;
  while (next !== undefined) {
    const answer = await registry.send('GET', next);
    entries.push(...((answer.body as { history?: Entry[] }).history ?? []));
    next = limit === undefined ? /^<([^>]+)>/.exec(answer.headers.get('link') ?? '')?.[1] : undefined;
  }
  return entries;
}

async function tagRollback(parsed: ParsedArgs, usage: string, io: CliIo): Promise<number> {
  const { name, tag } = tagReference(onePositional(parsed, usage), usage);
  const { to, steps } = parsed.values;
  if (to !== undefined && steps !== undefined) throw new CliError(`give --to or --steps, not both\n${usage}`);
  const target =
    typeof to === 'string'
      ? { digest: to }
      : { steps: steps === undefined ? 1 : wholeNumber('--steps', steps as string, 1) };
  const registry = await registryHttp(parsed, io);
  const answer = await registry.send('POST', `/v2/${name}/_berth/tags/${tag}/rollback`, target);
  const { digest } = answer.body as { digest: string };
  if (parsed.values.json === true) io.stdout.write(`${JSON.stringify(answer.body, null, 2)}\n`);
  else io.stdout.write(`${name}:${tag} now points at ${digest}\n`);
  return 0;
}

/** `REPO:TAG`, both checked against the registry's grammars. */
export function tagReference(text: string, usage: string): { name: string; tag: string } {
  const colon = text.lastIndexOf(':');
  const name = text.slice(0, Math.max(colon, 0));
  const tag = text.slice(colon + 1);
  if (colon < 0 || !isValidName(name) || !isValidTag(tag))
    throw new CliError(`expected REPOSITORY:TAG such as team/app:v1, got "${text}"\n${usage}`);
  return { name, tag };
}

function wholeNumber(flag: string, text: string, min: number): number {
  if (!/^\d{1,9}$/.test(text) || Number(text) < min)
    throw new CliError(`${flag}: expected a whole number >= ${min}, got "${text}"`);
  return Number(text);
}
