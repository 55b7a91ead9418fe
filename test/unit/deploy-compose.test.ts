/**
 * deploy/compose.yaml, checked without a docker engine: the Berth replicas' environment is
 * made of Berth settings and passes Berth's own validation on top of the image's, their
 * ports and stop timeouts agree with it, and the bucket they use is the one MinIO gets.
 */
import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { before, describe, it } from 'node:test';
import { buildConfig } from '../../src/config/load.js';
import type { BerthConfig } from '../../src/config/schema.js';
import { envName, KEYS } from '../../src/config/schema.js';
import { parseAddress, parseDuration } from '../../src/config/values.js';
import { configValue, imageSettings, REPO_ROOT, readDocuments } from '../helpers/deploy-files.js';

interface ComposeService {
  image?: string;
  build?: string;
  environment?: Record<string, string>;
  ports?: string[];
  stop_grace_period?: string;
  depends_on?: Record<string, { condition: string }>;
  command?: string[];
}

const FILE = 'deploy/compose.yaml';
const KEY_VARIABLES = new Set(KEYS.map((spec) => envName(spec.key)));

let services: Record<string, ComposeService>;
let berths: [string, ComposeService][];

before(async () => {
  const [document, ...more] = await readDocuments(FILE);
  assert.ok(document && more.length === 0, `${FILE} is one document`);
  services = (document.value as { services: Record<string, ComposeService> }).services;
  berths = Object.entries(services).filter(([, service]) => service.build !== undefined);
});

async function configOf(service: ComposeService): Promise<BerthConfig> {
  const env = { ...(await imageSettings()).env, ...service.environment };
  // No berth.yml: the environment is the whole configuration.
  const { config, warnings } = buildConfig({}, env, `${FILE} environment`);
  assert.deepEqual(warnings, [], 'no ignored settings');
  return config;
}

describe('deploy/compose.yaml', () => {
  it("runs at least two Berth replicas built from the repository's Dockerfile", async () => {
    assert.ok(berths.length >= 2, 'two replicas');
    for (const [, service] of berths) await access(new URL(`deploy/${service.build}/Dockerfile`, REPO_ROOT));
  });

  it('configures them with BERTH_* variables of configuration keys only', () => {
    for (const [name, service] of berths)
      for (const variable of Object.keys(service.environment ?? {}))
        assert.ok(
          KEY_VARIABLES.has(variable),
          `${name}: ${variable} is not the variable of a configuration key`,
        );
  });

  it("passes Berth's configuration validation, and ports and stop timeouts agree with it", async () => {
    const hostPorts = new Set<string>();
    for (const [name, service] of berths) {
      const config = await configOf(service);
      const [mapping] = service.ports ?? [];
      assert.ok(mapping, `${name} publishes a port`);
      const [hostPort = '', containerPort = ''] = mapping.split(':').slice(-2);
      assert.equal(Number(containerPort), parseAddress(config.http.addr).port, `${name} publishes http.addr`);
      hostPorts.add(hostPort);
      const grace = parseDuration(service.stop_grace_period ?? '10s');
      assert.ok(grace > config.http.draintimeout, `${name}: stop_grace_period > http.draintimeout`);
    }
    assert.equal(hostPorts.size, berths.length, 'each replica on a host port of its own');
  });

  it('points them at the bucket the bucket job creates, with the MinIO credentials', async () => {
    const minio = services.minio?.environment ?? {};
    const job = services.bucket;
    const script = job?.command?.join(' ') ?? '';
    for (const [name, service] of berths) {
      const config = await configOf(service);
      const s3 = (key: string) => String(configValue(config, `storage.s3.${key}`));
      assert.equal(config.storage.driver, 's3', name);
      assert.equal(new URL(s3('regionendpoint')).hostname, 'minio', `${name} reaches the minio service`);
      assert.equal(s3('accesskey'), minio.MINIO_ROOT_USER);
      assert.equal(s3('secretkey'), minio.MINIO_ROOT_PASSWORD);
      assert.match(script, new RegExp(`mc mb --ignore-existing \\w+/${s3('bucket')}$`), 'creates the bucket');
      assert.equal(service.depends_on?.bucket?.condition, 'service_completed_successfully', name);
    }
    assert.ok(script.includes(`${minio.MINIO_ROOT_USER} ${minio.MINIO_ROOT_PASSWORD}`), 'mc logs in');
  });
});
