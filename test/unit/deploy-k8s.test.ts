/**
 * deploy/k8s, checked without a cluster: every file parses, every variable a container gets
 * is a Berth setting, the configuration each container ends up with passes Berth's own
 * validation, and ports, probes, selectors, timeouts and memory agree with it.
 */
import assert from 'node:assert/strict';
import { basename, dirname } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GROUPS } from '../../src/cli/help.js';
import type { LoadedConfig } from '../../src/config/load.js';
import { type BerthConfig, envName, KEYS } from '../../src/config/schema.js';
import { parseAddress } from '../../src/config/values.js';
import {
  configFrom,
  configValue,
  type ImageSettings,
  imageSettings,
  memoryBytes,
  readDocuments,
  yamlFilesIn,
} from '../helpers/deploy-files.js';
import type {
  ConfigMap,
  Container,
  CronJob,
  Deployment,
  DisruptionBudget,
  Ingress,
  K8sObject,
  PodTemplate,
  Secret,
  Service,
} from '../helpers/k8s-objects.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

const DIRECTORY = 'deploy/k8s/';
/** Read by `berth serve` itself (the configuration file), not a configuration key. */
const CONFIG_FILE_VARIABLE = 'BERTH_CONFIG';
const KEY_VARIABLES = new Set(KEYS.map((spec) => envName(spec.key)));

let objects: K8sObject[];
let image: ImageSettings;

before(async () => {
  const files = (await yamlFilesIn(DIRECTORY)).filter((file) => file !== 'kustomization.yaml');
  const documents = (await Promise.all(files.map((file) => readDocuments(DIRECTORY + file)))).flat();
  objects = documents.map((document) => document.value as K8sObject);
  image = await imageSettings();
});

/** The one object of a kind; its type is the caller's word for what that kind holds. */
function one<T extends K8sObject>(kind: string): T {
  const found = objects.filter((object) => object.kind === kind);
  assert.equal(found.length, 1, `deploy/k8s has one ${kind}`);
  return found[0] as T;
}

/** Every object of a kind. */
function all<T extends K8sObject>(kind: string): T[] {
  return objects.filter((object) => object.kind === kind) as T[];
}

/** The pod templates of the workloads that run Berth. */
function workloads(): { name: string; template: PodTemplate }[] {
  return [
    { name: 'Deployment', template: one<Deployment>('Deployment').spec.template },
    ...all<CronJob>('CronJob').map((job) => ({
      name: `CronJob ${job.metadata.name}`,
      template: job.spec.jobTemplate.spec.template,
    })),
  ];
}

/** The container's own variables, with those read from the Secret resolved to its values. */
function containerEnvironment(container: Container): Record<string, string> {
  const secret = one<Secret>('Secret');
  const env: Record<string, string> = {};
  for (const variable of container.env ?? []) {
    const ref = variable.valueFrom?.secretKeyRef;
    if (ref) assert.equal(ref.name, secret.metadata.name, `${variable.name} reads the Secret`);
    const value = ref ? secret.stringData[ref.key] : variable.value;
    assert.equal(typeof value, 'string', `${variable.name} has a value`);
    env[variable.name] = value as string;
  }
  return env;
}

/** The configuration the container's Berth builds: the mounted berth.yml plus its environment. */
function effectiveConfig(template: PodTemplate, container: Container): LoadedConfig {
  const env = { ...image.env, ...containerEnvironment(container) };
  const file = env[CONFIG_FILE_VARIABLE];
  assert.ok(file, `${container.name} names its configuration file in ${CONFIG_FILE_VARIABLE}`);
  const mount = container.volumeMounts?.find((candidate) => candidate.mountPath === dirname(file));
  assert.ok(mount, `${file} is in a mounted volume`);
  const volume = template.spec.volumes?.find((candidate) => candidate.name === mount.name);
  const configMap = objects.find(
    (object): object is ConfigMap =>
      object.kind === 'ConfigMap' && object.metadata.name === volume?.configMap?.name,
  );
  const text = configMap?.data?.[basename(file)];
  assert.ok(text, `${file} comes from a ConfigMap of deploy/k8s`);
  return configFrom(text, env, `ConfigMap ${configMap?.metadata.name} ${basename(file)}`);
}

/** The Deployment's pod template and its Berth container. */
function registryPod(): { template: PodTemplate; container: Container } {
  const template = one<Deployment>('Deployment').spec.template;
  const container = template.spec.containers[0];
  assert.ok(container, 'the Deployment runs a container');
  return { template, container };
}

/** The same, with the configuration that container runs with. */
function registry(): { template: PodTemplate; container: Container; config: BerthConfig } {
  const { template, container } = registryPod();
  return { template, container, config: effectiveConfig(template, container).config };
}

/** The container port a probe or Service names, by number or by name. */
function containerPort(container: Container, port: string | number): number | undefined {
  if (typeof port === 'number') return port;
  return container.ports?.find((candidate) => candidate.name === port)?.containerPort;
}

function selects(selector: Record<string, string>, labels: Record<string, string>): boolean {
  return Object.entries(selector).every(([name, value]) => labels[name] === value);
}

describe('deploy/k8s', () => {
  it('parses, and kustomization.yaml lists every other file and names the image', async () => {
    const files = await yamlFilesIn(DIRECTORY);
    const [kustomization] = await readDocuments(`${DIRECTORY}kustomization.yaml`);
    const value = kustomization?.value as { resources: string[]; images: { name: string }[] };
    const others = files.filter((file) => file !== 'kustomization.yaml');
    assert.deepEqual([...value.resources].sort(), others);
    for (const object of objects) assert.ok(object.kind && object.metadata?.name, 'kind and name set');
    for (const { template } of workloads())
      for (const container of template.spec.containers)
        assert.ok(
          value.images.some((entry) => entry.name === container.image),
          `${container.image} is set`,
        );
  });

  it('gives containers only BERTH_* variables of configuration keys', () => {
    for (const { name, template } of workloads())
      for (const container of template.spec.containers)
        for (const variable of container.env ?? [])
          assert.ok(
            variable.name === CONFIG_FILE_VARIABLE || KEY_VARIABLES.has(variable.name),
            `${name} ${container.name}: ${variable.name} is not the variable of a configuration key`,
          );
  });

  it("passes Berth's configuration validation as each container sees it", () => {
    for (const { name, template } of workloads())
      for (const container of template.spec.containers) {
        const { warnings } = effectiveConfig(template, container);
        assert.deepEqual(warnings, [], `${name}: no ignored keys`);
      }
  });

  it('probes, container port, http.addr, Service and Ingress agree on one port', () => {
    const { container, config } = registry();
    const port = parseAddress(config.http.addr).port;
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      assert.ok(probe, 'both probes are set');
      assert.equal(
        containerPort(container, probe.httpGet.port),
        port,
        `${probe.httpGet.path} probes http.addr`,
      );
    }
    const service = one<Service>('Service');
    const [servicePort] = service.spec.ports;
    assert.ok(servicePort, 'the Service has a port');
    assert.equal(containerPort(container, servicePort.targetPort), port, 'the Service targets http.addr');
    const backend = one<Ingress>('Ingress').spec.rules[0]?.http.paths[0]?.backend.service;
    assert.ok(backend, 'the Ingress has a backend');
    assert.equal(backend.name, service.metadata.name);
    assert.ok(backend.port.name === servicePort.name || backend.port.number === servicePort.port);
  });

  describe('probe paths', () => {
    let server: TestServer;
    before(async () => {
      server = await startTestServer();
    });
    after(() => server.close());

    it('readiness asks /readyz (storage), liveness /healthz, and both answer 200', async () => {
      const { container } = registryPod();
      assert.equal(container.readinessProbe?.httpGet.path, '/readyz');
      assert.equal(container.livenessProbe?.httpGet.path, '/healthz');
      for (const path of ['/readyz', '/healthz']) {
        const response = await fetch(`${server.directUrl}${path}`);
        assert.equal(response.status, 200, path);
      }
    });
  });

  it('selects the registry pods, and only them, in the Service and the PodDisruptionBudget', () => {
    const deployment = one<Deployment>('Deployment');
    const budget = one<DisruptionBudget>('PodDisruptionBudget');
    const labels = registryPod().template.metadata.labels;
    const jobLabels = all<CronJob>('CronJob').map(
      (job) => job.spec.jobTemplate.spec.template.metadata.labels,
    );
    assert.ok(selects(deployment.spec.selector.matchLabels, labels), 'the Deployment selects its pods');
    for (const selector of [one<Service>('Service').spec.selector, budget.spec.selector.matchLabels]) {
      assert.ok(selects(selector, labels), 'selects the registry pods');
      for (const job of jobLabels) assert.ok(!selects(selector, job), 'not the scheduled jobs');
    }
    assert.ok(budget.spec.minAvailable < deployment.spec.replicas, 'drains can go on');
  });

  it('lets requests in flight drain before the pod is killed', () => {
    const { template, container, config } = registry();
    const pause = (container.lifecycle?.preStop?.sleep?.seconds ?? 0) * 1000;
    const grace = (template.spec.terminationGracePeriodSeconds ?? 30) * 1000;
    assert.ok(grace > pause + config.http.draintimeout, `${grace} ms > ${pause} + http.draintimeout`);
  });

  it('leaves memory for the process, the cache budget and uploads in flight', () => {
    const { container, config } = registry();
    const part = configValue(config, 'storage.s3.chunksize');
    const concurrency = configValue(config, 'storage.s3.multipartconcurrency');
    const cache = configValue(config, 'storage.cache.maxmemory');
    assert.ok(typeof part === 'number' && typeof concurrency === 'number' && typeof cache === 'number');
    const perUpload = part * (concurrency + 1);
    const limit = memoryBytes(container.resources?.limits?.memory);
    const process = 100 * 1024 ** 2;
    // docs/deploy.md's budget: two docker pushes (5 layers each) at once fit.
    assert.ok(limit >= process + cache + 10 * perUpload, 'the limit fits 10 uploads in flight');
    assert.ok(memoryBytes(container.resources?.requests?.memory) >= process + cache, 'the request fits idle');
  });

  it("runs as the image's user on a read-only root with a writable /tmp", () => {
    for (const { name, template } of workloads()) {
      const pod = template.spec.securityContext;
      assert.equal(pod?.runAsNonRoot, true, name);
      assert.equal(`${pod?.runAsUser}:${pod?.runAsGroup}`, image.user, `${name}: the Dockerfile's USER`);
      for (const container of template.spec.containers) {
        assert.equal(container.securityContext?.readOnlyRootFilesystem, true, name);
        const tmp = container.volumeMounts?.find((mount) => mount.mountPath === '/tmp');
        const volume = template.spec.volumes?.find((candidate) => candidate.name === tmp?.name);
        assert.ok(volume?.emptyDir, `${name}: /tmp is an emptyDir`);
      }
    }
  });

  it('purges and collects garbage with berth commands, one run of each at a time', () => {
    const jobs = all<CronJob>('CronJob');
    const commands = GROUPS.map((group) => group.name);
    const run = jobs.map((job) => job.spec.jobTemplate.spec.template.spec.containers[0]?.args?.[0] ?? '');
    assert.deepEqual(run.sort(), ['gc', 'purge']);
    for (const job of jobs) {
      assert.equal(job.spec.concurrencyPolicy, 'Forbid', job.metadata.name);
      const command = job.spec.jobTemplate.spec.template.spec.containers[0]?.args?.[0];
      assert.ok(commands.includes(command ?? ''), `berth ${command} is one of: ${commands.join(', ')}`);
    }
  });
});
