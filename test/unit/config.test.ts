import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { DISTRIBUTION_KEYS } from '../../src/config/distribution-keys.js';
import { buildConfig, ConfigError, loadConfig } from '../../src/config/load.js';
import { envName, KEYS } from '../../src/config/schema.js';
import { removeDir, tempDir } from '../helpers/tmp.js';

describe('configuration', () => {
  it('defaults: 0.0.0.0:5000, filesystem storage under ./data, deletes on, 4 MiB manifests', () => {
    const { config, warnings } = buildConfig({}, {}, 'defaults');
    assert.equal(config.http.addr, '0.0.0.0:5000');
    assert.equal(config.storage.driver, 'filesystem');
    assert.equal(config.storage.filesystem.rootdirectory, './data');
    assert.equal(config.storage.delete.enabled, true);
    assert.equal(config.validation.manifests.maxsize, 4 * 1024 * 1024);
    assert.equal(config.storage.maintenance.uploadpurging.age, 168 * 3600 * 1000);
    assert.deepEqual(warnings, []);
  });

  it('reads distribution-style YAML and BERTH_* overrides win', async () => {
    const dir = await tempDir();
    try {
      const file = path.join(dir, 'config.yml');
      await writeFile(
        file,
        [
          'version: 0.1',
          'log:',
          '  level: debug',
          '  fields: { service: registry }',
          'http:',
          '  addr: 127.0.0.1:5001',
          '  draintimeout: 10s',
          '  headers:',
          '    X-Content-Type-Options: [nosniff]',
          'storage:',
          '  filesystem:',
          '    rootdirectory: /srv/berth',
          '  delete:',
          '    enabled: false',
          '  cache:',
          '    blobdescriptor: inmemory',
          'validation:',
          '  manifests:',
          '    maxsize: 1MiB',
        ].join('\n'),
      );
      const { config, warnings } = await loadConfig(file, {
        BERTH_HTTP_ADDR: ':6000',
        BERTH_STORAGE_DELETE_ENABLED: 'true',
      });
      assert.equal(config.http.addr, ':6000');
      assert.equal(config.http.draintimeout, 10_000);
      assert.deepEqual(config.http.headers, { 'X-Content-Type-Options': ['nosniff'] });
      assert.equal(config.log.level, 'debug');
      assert.equal(config.storage.filesystem.rootdirectory, '/srv/berth');
      assert.equal(config.storage.delete.enabled, true);
      assert.equal(config.validation.manifests.maxsize, 1024 * 1024);
      assert.equal(warnings.length, 2);
      assert.match(warnings.join('\n'), /version.*ignored/);
      assert.match(warnings.join('\n'), /log\.fields/);
    } finally {
      await removeDir(dir);
    }
  });

  it('a bad value names the key and what is expected', () => {
    const cases: Array<[Record<string, unknown>, Record<string, string>, RegExp]> = [
      [{ http: { addr: 'localhost' } }, {}, /test: http\.addr: expected host:port/],
      [
        { storage: { delete: { enabled: 'yes' } } },
        {},
        /storage\.delete\.enabled: expected true or false, got "yes"/,
      ],
      [{ log: { level: 'loud' } }, {}, /log\.level: expected one of debug, info, warn, error/],
      [
        { storage: { maintenance: { uploadpurging: { age: 'forever' } } } },
        {},
        /uploadpurging\.age: expected a duration/,
      ],
      [{ validation: { manifests: { maxsize: 'big' } } }, {}, /maxsize: expected a size/],
      [{ storage: { driver: 'swift' } }, {}, /storage\.driver: the swift driver is not part of this version/],
      [{ metrics: { path: '/v2/metrics' } }, {}, /metrics\.path/],
      [{ http: 'not a section' }, {}, /http: expected a section/],
      [{ http: { workers: 0 } }, {}, /http\.workers: expected a whole number >= 1 or auto, got 0/],
      [
        {},
        { BERTH_HTTP_WORKERS: 'many' },
        /BERTH_HTTP_WORKERS \(http\.workers\): expected a whole number >= 1/,
      ],
      [{}, { BERTH_HTTP_ADDR: 'nope' }, /BERTH_HTTP_ADDR \(http\.addr\): expected host:port/],
      [
        {},
        { BERTH_STORAGE_DELETE_ENABLED: 'maybe' },
        /BERTH_STORAGE_DELETE_ENABLED \(storage\.delete\.enabled\)/,
      ],
    ];
    for (const [document, env, message] of cases) {
      assert.throws(
        () => buildConfig(document, env, 'test'),
        (err: unknown) => err instanceof ConfigError && message.test(err.message),
        String(message),
      );
    }
  });

  it('http.workers: 1 by default, a count, or auto for one per CPU', () => {
    assert.equal(buildConfig({}, {}, 'test').config.http.workers, 1);
    assert.equal(buildConfig({ http: { workers: 3 } }, {}, 'test').config.http.workers, 3);
    assert.equal(buildConfig({}, { BERTH_HTTP_WORKERS: '2' }, 'test').config.http.workers, 2);
    assert.equal(
      buildConfig({ http: { workers: 'auto' } }, {}, 'test').config.http.workers,
      availableParallelism(),
    );
  });

  it('unknown keys and variables are errors with a suggestion', () => {
    assert.throws(
      () => buildConfig({ storage: { filesytem: {} } }, {}, 'c.yml'),
      /c\.yml: unknown key storage\.filesytem \(did you mean storage\.filesystem\?\)/,
    );
    assert.throws(
      () => buildConfig({ auth: { htpasswd: { pth: '/x' } } }, {}, 'c.yml'),
      /unknown key auth\.htpasswd\.pth \(did you mean auth\.htpasswd\.path\?\)/,
    );
    assert.throws(
      () => buildConfig({}, { BERTH_HTTP_ADRR: ':1' }, 'c.yml'),
      /BERTH_HTTP_ADRR is not a Berth setting \(did you mean BERTH_HTTP_ADDR\?\)/,
    );
    assert.doesNotThrow(() => buildConfig({}, { BERTH_CONFIG: '/x.yml', OTHER: '1' }, 'c.yml'));
  });

  it('distribution sections Berth lacks stop start-up saying what to do instead, not "unknown key"', () => {
    const cases: Array<[Record<string, unknown>, Record<string, string>, RegExp]> = [
      [
        { http: { tls: { certificate: '/c.pem', key: '/k.pem' } } },
        {},
        /c\.yml: http\.tls is not supported: .*terminate TLS in a reverse proxy .*Deploying/,
      ],
      [
        { proxy: { remoteurl: 'https://registry-1.docker.io' } },
        {},
        /proxy is not supported: .* not part of Berth yet/,
      ],
      [{ notifications: { endpoints: [] } }, {}, /notifications is not supported: .*no webhooks yet/],
      [
        { storage: { azure: { accountname: 'a' } } },
        {},
        /storage\.azure is not supported: .*yet; use storage\.s3 .*or storage\.filesystem/,
      ],
      [{ storage: { gcs: { bucket: 'b' } } }, {}, /storage\.gcs is not supported/],
      [{ middleware: { storage: [{ name: 'cloudfront' }] } }, {}, /middleware is not supported/],
      [
        { storage: { maintenance: { readonly: { enabled: true } } } },
        {},
        /storage\.maintenance\.readonly is not supported: .*grants only pull/,
      ],
      [{ auth: { silly: { realm: 'r' } } }, {}, /auth\.silly is not supported: .*auth\.mode basic/],
      [{ auth: { token: { signingalgorithms: ['EdDSA'] } } }, {}, /set auth\.token\.algorithm/],
      [
        { validation: { manifests: { urls: { allow: ['^https://'] } } } },
        {},
        /validation\.manifests\.urls is not/,
      ],
      [
        {},
        { BERTH_HTTP_TLS_CERTIFICATE: '/c.pem' },
        /BERTH_HTTP_TLS_CERTIFICATE \(http\.tls\) is not supported/,
      ],
      [{}, { BERTH_PROXY_REMOTEURL: 'https://x' }, /BERTH_PROXY_REMOTEURL \(proxy\) is not supported/],
      [
        { storage: { cache: { blobdescriptor: 'redis' } } },
        {},
        /redis is not supported: .*use inmemory or none/,
      ],
      [{ storage: { driver: 'azure' } }, {}, /the azure driver is not part of this version of Berth yet/],
    ];
    for (const [document, env, message] of cases) {
      assert.throws(
        () => buildConfig(document, env, 'c.yml'),
        (err: unknown) =>
          err instanceof ConfigError &&
          message.test(err.message) &&
          !/unknown key|did you mean/.test(err.message),
        String(message),
      );
    }
  });

  it('distribution settings Berth has no use for start with a warning that says why', () => {
    const { warnings } = buildConfig(
      {
        loglevel: 'debug',
        http: { host: 'https://registry.example.com', secret: 's' },
        auth: { mode: 'basic', htpasswd: { realm: 'basic-realm', path: '/etc/htpasswd' } },
        storage: { tag: { concurrencylimit: 8 }, cache: { blobdescriptorsize: 10000 } },
        redis: { addrs: ['localhost:6379'] },
      },
      { BERTH_HEALTH_STORAGEDRIVER_ENABLED: 'true', REGISTRY_HTTP_ADDR: ':5000' },
      'c.yml',
    );
    const text = warnings.join('\n');
    assert.match(text, /c\.yml: loglevel is a distribution setting .*ignored \(use log\.level\)/);
    assert.match(text, /http\.host .*ignored \(Berth answers with relative URLs/);
    assert.match(text, /auth\.htpasswd\.realm .*ignored \(the Basic challenge uses auth\.basic\.realm\)/);
    assert.match(text, /storage\.tag .*ignored/);
    assert.match(text, /redis .*ignored \(Berth caches in process/);
    assert.match(text, /BERTH_HEALTH_STORAGEDRIVER_ENABLED \(health\) .*ignored \(probe \/healthz/);
    assert.match(
      text,
      /REGISTRY_HTTP_ADDR is distribution's name for a setting; Berth reads BERTH_HTTP_ADDR/,
    );
    assert.equal(warnings.length, 9, text);
  });

  it('accounts named while auth.mode is none start with a warning that nobody has to log in', () => {
    const { warnings } = buildConfig({ auth: { htpasswd: { path: '/etc/htpasswd' } } }, {}, 'c.yml');
    assert.match(warnings.join('\n'), /c\.yml: auth\.mode is none, so nobody is asked to log in/);
  });

  it('no distribution entry covers a key or section of Berth (it would hide it)', () => {
    const berthKeys = KEYS.flatMap((spec) => {
      const parts = spec.key.split('.');
      return parts.map((_, i) => parts.slice(0, i + 1).join('.'));
    });
    for (const entry of DISTRIBUTION_KEYS) {
      const hidden = berthKeys.filter((key) => key === entry.key || key.startsWith(`${entry.key}.`));
      assert.deepEqual(hidden, [], entry.key);
      assert.ok(!KEYS.some((spec) => entry.key.startsWith(`${spec.key}.`)), `${entry.key} is reachable`);
    }
  });

  it('environment variables: BERTH_PORT and friends say what to set, agent variables are accepted', () => {
    assert.throws(
      () => buildConfig({}, { BERTH_PORT: '5001' }, 'c.yml'),
      /environment variable BERTH_PORT is not a Berth setting: the port is part of the listen address: set BERTH_HTTP_ADDR=:5001/,
    );
    assert.throws(
      () => buildConfig({}, { BERTH_DATA_DIR: '/srv/berth' }, 'c.yml'),
      /set BERTH_STORAGE_FILESYSTEM_ROOTDIRECTORY=\/srv\/berth/,
    );
    assert.doesNotThrow(() => buildConfig({}, { BERTH_AGENT_ROOT: '/var/lib/a', BERTH_DEBUG: '1' }, 'c.yml'));
  });

  it('http.headers: a clear format error, from the environment (JSON) and from YAML', () => {
    const cases: Array<[Record<string, unknown>, Record<string, string>, RegExp]> = [
      [
        {},
        { BERTH_HTTP_HEADERS: 'X-Frame-Options: DENY' },
        /BERTH_HTTP_HEADERS \(http\.headers\): expected JSON mapping header names to lists of values, such as \{"X-Frame-Options":\["DENY"\]\}, got "X-Frame-Options: DENY"/,
      ],
      [{}, { BERTH_HTTP_HEADERS: '["DENY"]' }, /expected a map of header name to a list of values, got/],
      [
        { http: { headers: { 'Bad Name': ['x'] } } },
        {},
        /http\.headers: "Bad Name" is not a valid header name/,
      ],
      [{ http: { headers: { 'X-A': 5 } } }, {}, /http\.headers: X-A: expected a list of strings, got 5/],
      [{ http: { headers: { 'X-A': ['a\r\nSet-Cookie: x'] } } }, {}, /X-A: .* holds a line break/],
    ];
    for (const [document, env, message] of cases) {
      assert.throws(() => buildConfig(document, env, 'c.yml'), message);
    }
    const { config } = buildConfig({}, { BERTH_HTTP_HEADERS: '{"X-Frame-Options":["DENY"],"X-B":"1"}' }, 'c');
    assert.deepEqual(config.http.headers, { 'X-Frame-Options': ['DENY'], 'X-B': ['1'] });
  });

  it('a missing file or invalid YAML is a ConfigError naming the file', async () => {
    await assert.rejects(
      loadConfig('/no/such/config.yml', {}),
      (err: unknown) => err instanceof ConfigError && /\/no\/such\/config\.yml/.test(err.message),
    );
    const dir = await tempDir();
    try {
      const file = path.join(dir, 'bad.yml');
      await writeFile(file, 'http:\n  addr: [unclosed\n');
      await assert.rejects(
        loadConfig(file, {}),
        (err: unknown) => err instanceof ConfigError && /bad\.yml: not valid YAML/.test(err.message),
      );
    } finally {
      await removeDir(dir);
    }
  });

  it('every key has an env name and is documented in the README', async () => {
    const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
    for (const spec of KEYS) {
      assert.ok(readme.includes(`\`${spec.key}\``), `README documents ${spec.key}`);
      assert.ok(readme.includes(envName(spec.key)), `README names ${envName(spec.key)}`);
      assert.doesNotThrow(() => spec.parse(spec.default), `default of ${spec.key} is itself valid`);
    }
  });
});
