/**
 * Reading the deploy files (deploy/k8s, deploy/compose.yaml, the Dockerfile) as the runtime
 * would see them, for tests that check them without a cluster or a docker engine: YAML
 * documents, the environment a container ends up with, and the configuration Berth would
 * build from it.
 */
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { parseAllDocuments } from 'yaml';
import { buildConfig, type LoadedConfig } from '../../src/config/load.js';

/** The repository's root (tests run from dist/test/...). */
export const REPO_ROOT = new URL('../../../', import.meta.url);

/** One YAML document of a deploy file, with the file it came from. */
export interface DeployDocument {
  file: string;
  value: unknown;
}

/** Every document of `file` (relative to the repository root); fails on any YAML error. */
export async function readDocuments(file: string): Promise<DeployDocument[]> {
  const text = await readFile(new URL(file, REPO_ROOT), 'utf8');
  // Merge keys (`<<: *anchor`) as compose reads them.
  const documents = parseAllDocuments(text, { merge: true });
  assert.ok(Array.isArray(documents), `${file} holds YAML documents`);
  return documents.map((document) => {
    assert.deepEqual(document.errors, [], `${file} is valid YAML`);
    return { file, value: document.toJS() as unknown };
  });
}

/** The YAML files of a directory of the repository, sorted. */
export async function yamlFilesIn(directory: string): Promise<string[]> {
  const names = await readdir(new URL(directory, REPO_ROOT));
  return names.filter((name) => /\.ya?ml$/.test(name)).sort();
}

/** What the image built from the Dockerfile runs with: its ENV variables and USER. */
export interface ImageSettings {
  env: Record<string, string>;
  /** `uid` or `uid:gid`, as the last stage's USER says. */
  user: string;
}

/** The ENV and USER of the Dockerfile's last stage (ENV in its `NAME=value ...` form). */
export async function imageSettings(): Promise<ImageSettings> {
  const text = (await readFile(new URL('Dockerfile', REPO_ROOT), 'utf8')).replace(/\\\n/g, ' ');
  const lines = text.split('\n').map((line) => line.trim());
  const settings: ImageSettings = { env: {}, user: '' };
  for (const line of lines.slice(lines.findLastIndex((candidate) => /^FROM\s/i.test(candidate)))) {
    const [instruction = '', ...words] = line.split(/\s+/);
    if (/^USER$/i.test(instruction)) settings.user = words.join(' ');
    if (!/^ENV$/i.test(instruction)) continue;
    for (const pair of words) {
      const [name, ...value] = pair.split('=');
      settings.env[name as string] = value.join('=');
    }
  }
  return settings;
}

/**
 * The configuration Berth builds from `berthYml` (the text of a berth.yml) and `env`, exactly
 * as `berth serve` would: unknown keys, unknown BERTH_* variables and bad values throw.
 */
export function configFrom(berthYml: string, env: Record<string, string>, source: string): LoadedConfig {
  const [document] = parseAllDocuments(berthYml);
  assert.ok(document && !Array.isArray(document), `${source} holds one YAML document`);
  assert.deepEqual(document.errors, [], `${source} is valid YAML`);
  return buildConfig(document.toJS() ?? {}, env, source);
}

/** The value at a dotted path of a configuration, for keys the type does not declare yet. */
export function configValue(config: object, key: string): unknown {
  let node: unknown = config;
  for (const part of key.split('.')) {
    node = typeof node === 'object' && node !== null ? (node as Record<string, unknown>)[part] : undefined;
  }
  return node;
}

const QUANTITY_UNITS: Record<string, number> = { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 };

/** A Kubernetes memory quantity (`512Mi`) in bytes. */
export function memoryBytes(quantity: unknown): number {
  const match = /^(\d+)(Ki|Mi|Gi)?$/.exec(String(quantity));
  assert.ok(match, `${String(quantity)} is a memory quantity in bytes, Ki, Mi or Gi`);
  return Number(match[1]) * (QUANTITY_UNITS[match[2] ?? ''] as number);
}
