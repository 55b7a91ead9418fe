/**
 * Loads the configuration: defaults, then the YAML file, then BERTH_* environment overrides,
 * every value validated. Any problem stops start-up with a ConfigError naming the key (and
 * the file or variable it came from) and what is expected.
 */

import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { TOMBSTONE_CHECK_OFF_VARIABLE } from '../registry/tombstones.js';
import { didYouMean } from '../text/nearest.js';
import { DISTRIBUTION_KEYS, type DistributionKey, distributionKey } from './distribution-keys.js';
import { type BerthConfig, crossCheck, crossWarnings, envName, KEYS, type KeySpec } from './schema.js';
import { impliedStorageDriver } from './storage-keys.js';

/** A configuration problem; the message is meant for the operator as is. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/**
 * Runs `use`, which acts on what config key `key` names (a directory, a key file); a failure
 * becomes a ConfigError naming the key, so start-up stops with one line.
 */
export async function withConfigKey<T>(key: string, use: () => Promise<T>): Promise<T> {
  try {
    return await use();
  } catch (err) {
    throw new ConfigError(`${key}: ${(err as Error).message}`);
  }
}

/** The loaded configuration and what the operator should be told about it. */
export interface LoadedConfig {
  config: BerthConfig;
  /** Keys that were accepted but have no effect. */
  warnings: string[];
}

/**
 * Environment variables with the BERTH_ prefix that are not config keys: the config file of
 * `berth serve`, and the agent's root and debug switch (often set in the same environment).
 */
const NON_KEY_VARIABLES: ReadonlySet<string> = new Set([
  'BERTH_CONFIG',
  'BERTH_AGENT_ROOT',
  'BERTH_DEBUG',
  TOMBSTONE_CHECK_OFF_VARIABLE,
]);

/** Names people reach for that Berth spells otherwise: what to set instead, given the value. */
const MISNAMED_VARIABLES: Readonly<Record<string, (value: string) => string>> = {
  BERTH_PORT: (port) => `the port is part of the listen address: set BERTH_HTTP_ADDR=:${port}`,
  BERTH_HOST: (host) => `the host is part of the listen address: set BERTH_HTTP_ADDR=${host}:5000`,
  BERTH_ADDR: (addr) => `set BERTH_HTTP_ADDR=${addr}`,
  BERTH_LISTEN: (addr) => `set BERTH_HTTP_ADDR=${addr}`,
  BERTH_DATA: (dir) => `set BERTH_STORAGE_FILESYSTEM_ROOTDIRECTORY=${dir}`,
  BERTH_DATA_DIR: (dir) => `set BERTH_STORAGE_FILESYSTEM_ROOTDIRECTORY=${dir}`,
};

/** Reads and validates a config file (optional) plus environment overrides. */
export async function loadConfig(file: string | undefined, env: NodeJS.ProcessEnv): Promise<LoadedConfig> {
  if (file === undefined) return buildConfig({}, env, 'defaults');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  let document: unknown;
  try {
    document = parseYaml(text) ?? {};
  } catch (err) {
    throw new ConfigError(`${file}: not valid YAML: ${(err as Error).message}`);
  }
  return buildConfig(document, env, file);
}

/** Validates an already-parsed YAML document plus environment overrides. */
export function buildConfig(document: unknown, env: NodeJS.ProcessEnv, source: string): LoadedConfig {
  if (!isMapping(document)) throw new ConfigError(`${source}: the top level must be a mapping of keys`);
  const warnings: string[] = [];
  const fileValues = new Map<string, unknown>();
  collectLeaves(document, '', fileValues, warnings, source);
  checkEnvironment(env, warnings);

  const config = {};
  for (const spec of KEYS) {
    setPath(config, spec.key, resolve(spec, fileValues, env, source));
  }
  const given = KEYS.map((spec) => spec.key).filter(
    (key) => fileValues.get(key) != null || env[envName(key)] !== undefined,
  );
  const implied = impliedStorageDriver(given);
  if (implied) (config as BerthConfig).storage.driver = implied;
  const problem = crossCheck(config as BerthConfig);
  if (problem) throw new ConfigError(`${source}: ${problem}`);
  warnings.push(...crossWarnings(config as BerthConfig).map((warning) => `${source}: ${warning}`));
  return { config: config as BerthConfig, warnings };
}

function resolve(
  spec: KeySpec,
  fileValues: Map<string, unknown>,
  env: NodeJS.ProcessEnv,
  source: string,
): unknown {
  const variable = envName(spec.key);
  const fromEnv = env[variable];
  const [raw, origin] =
    fromEnv !== undefined
      ? [fromEnv, `${variable} (${spec.key})`]
      : [fileValues.get(spec.key), `${source}: ${spec.key}`];
  if (raw === undefined || raw === null) return spec.default;
  try {
    return spec.parse(raw);
  } catch (err) {
    throw new ConfigError(`${origin}: ${(err as Error).message}`);
  }
}

const KNOWN = new Set(KEYS.map((spec) => spec.key));
const SECTIONS = new Set(KEYS.flatMap((spec) => prefixesOf(spec.key)));

function collectLeaves(
  node: Record<string, unknown>,
  prefix: string,
  out: Map<string, unknown>,
  warnings: string[],
  source: string,
): void {
  for (const [name, value] of Object.entries(node)) {
    const key = prefix ? `${prefix}.${name}` : name;
    const foreign = distributionKey(key);
    if (KNOWN.has(key)) {
      out.set(key, value);
    } else if (foreign) {
      noteForeignKey(`${source}: ${key}`, foreign, warnings);
    } else if (SECTIONS.has(key)) {
      if (value === null || value === undefined) continue;
      if (!isMapping(value))
        throw new ConfigError(`${source}: ${key}: expected a section (a mapping of keys)`);
      collectLeaves(value, key, out, warnings, source);
    } else {
      throw new ConfigError(`${source}: unknown key ${key}${didYouMean(key, [...KNOWN, ...SECTIONS])}`);
    }
  }
}

/**
 * Warns about an ignored distribution key; refuses an unsupported one, since starting without
 * it would break what the operator asked for.
 */
function noteForeignKey(where: string, entry: DistributionKey, warnings: string[]): void {
  if (entry.kind === 'unsupported') throw new ConfigError(`${where} is not supported: ${entry.note}`);
  warnings.push(`${where} is a distribution setting Berth does not use; ignored (${entry.note})`);
}

const VARIABLES: ReadonlySet<string> = new Set(KEYS.map((spec) => envName(spec.key)));

function checkEnvironment(env: NodeJS.ProcessEnv, warnings: string[]): void {
  for (const [name, value = ''] of Object.entries(env)) {
    const berthName = name.replace(/^REGISTRY_/, 'BERTH_');
    if (berthName !== name && VARIABLES.has(berthName))
      warnings.push(`${name} is distribution's name for a setting; Berth reads ${berthName} (ignored)`);
    if (!name.startsWith('BERTH_') || VARIABLES.has(name) || NON_KEY_VARIABLES.has(name)) continue;
    const foreign = DISTRIBUTION_KEYS.find(
      (entry) => name === envName(entry.key) || name.startsWith(`${envName(entry.key)}_`),
    );
    if (foreign) {
      noteForeignKey(`${name} (${foreign.key})`, foreign, warnings);
      continue;
    }
    const instead = MISNAMED_VARIABLES[name];
    const hint = instead ? `: ${instead(value)}` : didYouMean(name, VARIABLES);
    throw new ConfigError(`environment variable ${name} is not a Berth setting${hint}`);
  }
}

function prefixesOf(key: string): string[] {
  const parts = key.split('.');
  return parts.slice(1).map((_, i) => parts.slice(0, i + 1).join('.'));
}

function setPath(target: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    node[part] ??= {};
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1] as string] = value;
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
