/**
 * The options of `berth agent run`, and the parser that turns its argv into them. Flags and
 * their meaning follow `docker run`; everything after IMAGE is the container's command.
 */
import { resolve } from 'node:path';
import { normalizeCapability } from './capabilities.js';

/**
 * How the container is networked. `bridge` (the default, as in Docker, with or without `-p`)
 * gives it a veth pair with a private address reachable from the host only (no NAT);
 * `none` an empty network namespace with only loopback; `host` the host's network namespace.
 */
export type NetworkMode = 'none' | 'host' | 'bridge';

/** One `-v`: a host directory (absolute source) or a named volume mounted at `destination`. */
export interface VolumeSpec {
  kind: 'bind' | 'volume';
  /** The absolute host path for `bind`, the volume name for `volume`. */
  source: string;
  destination: string;
  readOnly: boolean;
}

/** One `-p HOSTPORT:CTRPORT`: 127.0.0.1:hostPort on the host forwards to the container's TCP port. */
export interface PortSpec {
  hostPort: number;
  containerPort: number;
}

/** Everything `berth agent run` accepts besides IMAGE and the command. */
export interface RunOptions {
  /** `-d`: return the id once the container runs; it keeps its exit code and logs. */
  detach: boolean;
  /** `--rm`: remove the container when it exits. */
  remove: boolean;
  name?: string;
  hostname?: string;
  /** `-e K=V` or `-e K` (K taken from the agent's environment), in order. */
  env: string[];
  /** `--env-file F`: files of K=V lines, in order; `-e` wins over them as in Docker. */
  envFiles: string[];
  volumes: VolumeSpec[];
  ports: PortSpec[];
  /** `UID[:GID]` or `NAME[:GROUP]`; undefined means the image's User. */
  user?: string;
  capAdd: string[];
  capDrop: string[];
  readOnly: boolean;
  /** Memory limit in bytes (swap limited to the same, so no extra swap). */
  memory?: number;
  pidsLimit?: number;
  network: NetworkMode;
  workdir?: string;
  /** `--entrypoint`: replaces the image's Entrypoint and drops its Cmd; `""` clears it. */
  entrypoint?: string[];
}

/** What `parseRunArgs` returns. */
export interface ParsedRun {
  options: RunOptions;
  image: string;
  command: string[];
}

/** Options with every flag at its default. */
export function defaultRunOptions(): RunOptions {
  return {
    detach: false,
    remove: false,
    env: [],
    envFiles: [],
    volumes: [],
    ports: [],
    capAdd: [],
    capDrop: [],
    readOnly: false,
    network: 'bridge',
  };
}

type SwitchKey = { [K in keyof RunOptions]-?: RunOptions[K] extends boolean ? K : never }[keyof RunOptions];
type ListKey = { [K in keyof RunOptions]-?: RunOptions[K] extends unknown[] ? K : never }[keyof RunOptions];
type ValueKey = Exclude<keyof RunOptions, SwitchKey | ListKey>;

/**
 * A flag: a switch, a value that is parsed and stored, or a value parsed and appended to a
 * list. The parsers throw messages that name the flag.
 */
type Flag =
  | { switch: SwitchKey }
  | { [K in ValueKey]: { set: K; parse: (value: string) => NonNullable<RunOptions[K]> } }[ValueKey]
  | { [K in ListKey]: { push: K; parse: (value: string) => RunOptions[K][number] } }[ListKey];

const FLAGS: Record<string, Flag> = {
  '--detach': { switch: 'detach' },
  '--rm': { switch: 'remove' },
  '--read-only': { switch: 'readOnly' },
  '--name': { set: 'name', parse: containerName },
  '--hostname': { set: 'hostname', parse: hostname },
  '--env': { push: 'env', parse: (value) => envEntry(value, '--env') },
  '--env-file': { push: 'envFiles', parse: (value) => resolve(value) },
  '--volume': { push: 'volumes', parse: parseVolumeSpec },
  '--publish': { push: 'ports', parse: parsePortSpec },
  '--user': { set: 'user', parse: userSpec },
  '--cap-add': { push: 'capAdd', parse: (value) => capability(value, '--cap-add') },
  '--cap-drop': { push: 'capDrop', parse: (value) => capability(value, '--cap-drop') },
  '--memory': { set: 'memory', parse: parseMemory },
  '--pids-limit': { set: 'pidsLimit', parse: (value) => positiveInteger(value, '--pids-limit') },
  '--network': { set: 'network', parse: networkMode },
  '--workdir': { set: 'workdir', parse: (value) => absolute(value, '--workdir') },
  // Docker takes --entrypoint as one program path, not a shell line; "" clears the Entrypoint.
  '--entrypoint': { set: 'entrypoint', parse: (value) => (value === '' ? [] : [value]) },
};

function applyFlag(options: RunOptions, flag: Flag, value: string): void {
  // The Flag type ties each key to its parser; the record view only performs the store.
  const fields = options as unknown as Record<string, unknown>;
  if ('switch' in flag) fields[flag.switch] = true;
  else if ('set' in flag) fields[flag.set] = flag.parse(value);
  else (fields[flag.push] as unknown[]).push(flag.parse(value));
}

const SHORT: Record<string, string> = {
  '-d': '--detach',
  '-e': '--env',
  '-v': '--volume',
  '-p': '--publish',
  '-u': '--user',
  '-m': '--memory',
  '-w': '--workdir',
  '-h': '--hostname',
  '--net': '--network',
};

/** Whether `arg` is a run flag whose value is the next argument (`-e K=V`, `--name N`). */
export function runFlagTakesValue(arg: string): boolean {
  const flag = FLAGS[SHORT[arg] ?? arg];
  return flag !== undefined && !('switch' in flag);
}

/**
 * Parses `berth agent run` arguments (without `run`): flags, then IMAGE, then the command.
 * Accepts `--flag value`, `--flag=value` and `-e value`; throws an Error naming the flag.
 */
export function parseRunArgs(argv: string[]): ParsedRun {
  const options = defaultRunOptions();
  let index = 0;
  while (index < argv.length) {
    const arg = argv[index] as string;
    if (arg === '--') {
      index += 1;
      break;
    }
    if (!arg.startsWith('-') || arg === '-') break;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const written = eq > 0 ? arg.slice(0, eq) : arg;
    const name = SHORT[written] ?? written;
    const flag = FLAGS[name];
    if (!flag) throw new Error(`unknown flag ${written}`);
    index += 1;
    if ('switch' in flag) {
      if (eq > 0) throw new Error(`${written} takes no value`);
      applyFlag(options, flag, '');
      continue;
    }
    let value: string;
    if (eq > 0) value = arg.slice(eq + 1);
    else {
      if (index >= argv.length) throw new Error(`${written} needs a value`);
      value = argv[index] as string;
      index += 1;
    }
    try {
      applyFlag(options, flag, value);
    } catch (error) {
      const message = (error as Error).message;
      throw new Error(message.startsWith('-') ? message : `${written} ${value}: ${message}`);
    }
  }
  const image = argv[index];
  if (image === undefined) throw new Error('run needs an IMAGE');
  if (options.ports.length > 0 && options.network !== 'bridge') {
    throw new Error(`--publish needs --network bridge (got --network ${options.network})`);
  }
  if (options.detach && options.remove) throw new Error('--rm cannot be combined with --detach');
  return { options, image, command: argv.slice(index + 1) };
}

/**
 * A memory size like Docker's: `64m`, `1g`, `512k`, `1.5g`, plain bytes; units are powers of
 * 1024 and an optional `b`/`ib` suffix is allowed. Docker's minimum of 6 MiB applies.
 */
export function parseMemory(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?$/i.exec(text.trim());
  if (!match) throw new Error(`--memory ${text}: expected a size like 64m, 512k or 1g`);
  const power = ' kmgt'.indexOf((match[2] as string).toLowerCase() || ' ');
  const bytes = Math.floor(Number(match[1]) * 1024 ** power);
  if (bytes < 6 * 1024 * 1024) throw new Error(`--memory ${text}: the minimum is 6m`);
  return bytes;
}

/** `HOSTDIR:CTRPATH[:ro|rw]` (HOSTDIR absolute or ./relative) or `VOLUME:CTRPATH[:ro|rw]`. */
export function parseVolumeSpec(text: string): VolumeSpec {
  const parts = text.split(':');
  if (parts.length < 2 || parts.length > 3) {
    throw new Error(`--volume ${text}: expected SOURCE:DESTINATION[:ro]`);
  }
  const [source = '', destination = '', mode = 'rw'] = parts;
  if (mode !== 'ro' && mode !== 'rw')
    throw new Error(`--volume ${text}: mode must be ro or rw, not "${mode}"`);
  if (!destination.startsWith('/')) throw new Error(`--volume ${text}: the container path must be absolute`);
  const readOnly = mode === 'ro';
  if (source.startsWith('/') || source.startsWith('./') || source.startsWith('../') || source === '.') {
    return { kind: 'bind', source: resolve(source), destination, readOnly };
  }
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(source)) {
    throw new Error(`--volume ${text}: "${source}" is neither a host path nor a volume name`);
  }
  return { kind: 'volume', source, destination, readOnly };
}

/** `HOSTPORT:CTRPORT`, also written `127.0.0.1:HOSTPORT:CTRPORT` or with a `/tcp` suffix. */
export function parsePortSpec(text: string): PortSpec {
  let spec = text;
  if (spec.endsWith('/tcp')) spec = spec.slice(0, -4);
  else if (spec.includes('/')) throw new Error(`--publish ${text}: only TCP ports can be published`);
  if (spec.startsWith('127.0.0.1:')) spec = spec.slice('127.0.0.1:'.length);
  const parts = spec.split(':');
  if (parts.length !== 2)
    throw new Error(`--publish ${text}: expected HOSTPORT:CTRPORT (host side is 127.0.0.1)`);
  return { hostPort: port(parts[0] as string, text), containerPort: port(parts[1] as string, text) };
}

/** One env-file's text as K=V entries (blank and `#` lines skipped; bare K kept for the host value). */
export function parseEnvFile(text: string, file: string): string[] {
  const entries: string[] = [];
  for (const [number, raw] of text.split('\n').entries()) {
    const line = raw.replace(/\r$/, '').trimStart();
    if (line === '' || line.startsWith('#')) continue;
    try {
      entries.push(envEntry(line, '--env-file'));
    } catch (error) {
      throw new Error(`--env-file ${file}:${number + 1}: ${(error as Error).message}`);
    }
  }
  return entries;
}

function envEntry(text: string, flag: string): string {
  const eq = text.indexOf('=');
  const key = eq < 0 ? text : text.slice(0, eq);
  if (key === '' || /\s/.test(key)) throw new Error(`${flag} ${text}: expected NAME=VALUE or NAME`);
  return text;
}

function port(text: string, spec: string): number {
  const value = /^\d{1,5}$/.test(text) ? Number(text) : 0;
  if (value < 1 || value > 65535) throw new Error(`--publish ${spec}: "${text}" is not a port (1-65535)`);
  return value;
}

function containerName(text: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(text)) {
    throw new Error(`--name ${text}: names are letters, digits, and _ . - (not first)`);
  }
  return text;
}

function hostname(text: string): string {
  if (!/^[A-Za-z0-9]([A-Za-z0-9.-]{0,62})$/.test(text))
    throw new Error(`--hostname ${text}: not a valid hostname`);
  return text;
}

function userSpec(text: string): string {
  if (!/^[^:\s]+(:[^:\s]+)?$/.test(text))
    throw new Error(`--user ${text}: expected UID[:GID] or NAME[:GROUP]`);
  return text;
}

function capability(text: string, flag: string): string {
  const cap = normalizeCapability(text);
  if (!cap) throw new Error(`${flag} ${text}: unknown capability`);
  return cap;
}

function positiveInteger(text: string, flag: string): number {
  const value = /^\d+$/.test(text) ? Number(text) : 0;
  if (!Number.isSafeInteger(value) || value < 1)
    throw new Error(`${flag} ${text}: expected a positive integer`);
  return value;
}

function networkMode(text: string): NetworkMode {
  if (text === 'none' || text === 'host' || text === 'bridge') return text;
  throw new Error(`--network ${text}: expected none, host or bridge`);
}

function absolute(text: string, flag: string): string {
  if (!text.startsWith('/')) throw new Error(`${flag} ${text}: must be an absolute path`);
  return text;
}
