/**
 * `berth agent exec`: run another process in a running container, with the container's own
 * environment, user, working directory, capabilities and rlimits unless flags say otherwise.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { capabilitySets } from './capabilities.js';
import { exitStatus } from './command.js';
import { containerFiles, findContainer } from './containers.js';
import type { AgentLayout } from './layout.js';
import type { OciProcess, OciSpec } from './oci-spec.js';
import { classifyStartFailure, RUNC, runcExecArgs, runcState } from './runc.js';
import type { OutputSink } from './supervisor.js';
import { resolveUser } from './users.js';

/** `exec` flags. */
export interface ExecOptions {
  /** `-e K=V`, added to (or replacing in) the container's environment. */
  env: string[];
  /** `-u USER[:GROUP]`, resolved in the container's own /etc/passwd and /etc/group. */
  user?: string;
  /** `-w DIR`. */
  workdir?: string;
}

/** Parses `exec [-e K=V] [-u USER] [-w DIR] CONTAINER CMD...` (without `exec`). */
export function parseExecArgs(argv: string[]): {
  container: string;
  command: string[];
  options: ExecOptions;
} {
  const options: ExecOptions = { env: [] };
  let index = 0;
  for (; index < argv.length; index += 1) {
    const arg = argv[index] as string;
    if (!arg.startsWith('-')) break;
    const value = argv[index + 1];
    if (value === undefined) throw new Error(`${arg} needs a value`);
    if (arg === '-e' || arg === '--env') {
      if (!/^[^=\s]+=/.test(value)) throw new Error(`${arg} ${value}: expected NAME=VALUE`);
      options.env.push(value);
    } else if (arg === '-u' || arg === '--user') options.user = value;
    else if (arg === '-w' || arg === '--workdir') {
      if (!value.startsWith('/')) throw new Error(`${arg} ${value}: must be an absolute path`);
      options.workdir = value;
    } else throw new Error(`unknown flag ${arg}`);
    index += 1;
  }
  const container = argv[index];
  const command = argv.slice(index + 1);
  if (container === undefined || command.length === 0)
    throw new Error('exec needs a CONTAINER and a COMMAND');
  return { container, command, options };
}

/** Runs `command` in the running container `ref`; resolves with its exit code. */
export async function execInContainer(
  layout: AgentLayout,
  ref: string,
  command: string[],
  options: ExecOptions,
  io: { stdout: OutputSink; stderr: OutputSink },
): Promise<number> {
  const record = await findContainer(layout, ref);
  const state = await runcState(layout, record.id);
  if (state?.status !== 'running') throw new Error(`container ${record.name} is not running`);
  const files = containerFiles(layout, record.id);
  const spec = JSON.parse(await readFile(files.config, 'utf8')) as OciSpec;
  const processFile = join(files.dir, `exec-${randomBytes(6).toString('hex')}.json`);
  await writeFile(processFile, JSON.stringify(await execProcess(spec, command, options)));
  try {
    const child = spawn(RUNC, runcExecArgs(layout, record.id, processFile), {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (chunk: Buffer) => io.stdout.write(chunk));
    let lastError = '';
    child.stderr.on('data', (chunk: Buffer) => {
      io.stderr.write(chunk);
      lastError = `${lastError}${chunk.toString()}`.slice(-4096);
    });
    const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
    const status = exitStatus(code, signal);
    // runc exits 255 when it could not start the program; report that as Docker does.
    const failure = /level=error msg="exec failed: (.*)"\s*$/.exec(lastError);
    return status === 255 && failure?.[1] ? classifyStartFailure(failure[1]).code : status;
  } finally {
    await rm(processFile, { force: true });
  }
}

async function execProcess(spec: OciSpec, command: string[], options: ExecOptions): Promise<OciProcess> {
  const base = spec.process;
  const env = new Map(base.env.map((entry) => [entry.slice(0, entry.indexOf('=')), entry] as const));
  for (const entry of options.env) env.set(entry.slice(0, entry.indexOf('=')), entry);
  const execSpec: OciProcess = {
    ...base,
    args: command,
    env: [...env.values()],
    cwd: options.workdir ?? base.cwd,
  };
  if (options.user !== undefined) {
    // The container's root is mounted while it runs, so its user files are the ones it sees.
    const etc = join(spec.root.path, 'etc');
    const [passwd, group] = await Promise.all(
      ['passwd', 'group'].map((name) => readFile(join(etc, name), 'utf8').catch(() => '')),
    );
    const user = resolveUser(options.user, { passwd: passwd ?? '', group: group ?? '' });
    execSpec.user = { uid: user.uid, gid: user.gid, additionalGids: user.additionalGids };
    execSpec.capabilities = capabilitySets(base.capabilities.bounding, user.uid);
  }
  return execSpec;
}
