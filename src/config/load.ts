/**
 * Loads the configuration: defaults, then the YAML file, then BERTH_* environment overrides,
 * every value validated. Any problem stops start-up with a ConfigError naming the key (and
 * the file or variable it came from) and what is expected.
 */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { type BerthConfig, crossCheck, envName, IGNORED_KEYS, KEYS, type KeySpec } from './schema.js';

/** A configuration problem; the message is meant for the operator as is. */
export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** The loaded configuration and what the operator should be told about it. */
export interface LoadedConfig {
  config: BerthConfig;
  /** Keys that were accepted but have no effect. */
  warnings: string[];
}

/** Environment variables with the BERTH_ prefix that are not config keys. */
const NON_KEY_VARIABLES: ReadonlySet<string> = new Set(['BERTH_CONFIG']);

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
  checkEnvironment(env);

  const config = {};
  for (const spec of KEYS) {
    setPath(config, spec.key, resolve(spec, fileValues, env, source));
  }
  const problem = crossCheck(config as BerthConfig);
  if (problem) throw new ConfigError(`${source}: ${problem}`);
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
    if (KNOWN.has(key)) {
      out.set(key, value);
    } else if (IGNORED_KEYS.some((ignored) => key === ignored || key.startsWith(`${ignored}.`))) {
      warnings.push(`${source}: ${key} is a distribution setting Berth does not use; ignored`);
    } else if (SECTIONS.has(key)) {
      if (value === null || value === undefined) continue;
      if (!isMapping(value))
        throw new ConfigError(`${source}: ${key}: expected a section (a mapping of keys)`);
      collectLeaves(value, key, out, warnings, source);
    } else {
      throw new ConfigError(`${source}: unknown key ${key}${suggestion(key)}`);
    }
  }
}

function checkEnvironment(env: NodeJS.ProcessEnv): void {
  const variables = new Set(KEYS.map((spec) => envName(spec.key)));
  for (const name of Object.keys(env)) {
    if (!name.startsWith('BERTH_') || variables.has(name) || NON_KEY_VARIABLES.has(name)) continue;
    throw new ConfigError(
      `environment variable ${name} is not a Berth setting${suggestion(name, [...variables])}`,
    );
  }
}

function suggestion(key: string, candidates: string[] = [...KNOWN, ...SECTIONS]): string {
  let best: string | undefined;
  let bestDistance = 4;
  for (const candidate of candidates) {
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best ? ` (did you mean ${best}?)` : '';
}

/** The Levenshtein distance of `a` and `b`: how many one-character edits turn one into the other. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min(
        (previous[j] as number) + 1,
        (current[j - 1] as number) + 1,
        (previous[j - 1] as number) + cost,
      );
    }
    previous = current;
  }
  return previous[b.length] as number;
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
