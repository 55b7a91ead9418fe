import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { describe, it } from 'node:test';
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
      [{ storage: { driver: 's3' } }, {}, /storage\.driver: the s3 driver is not part of this version/],
      [{ metrics: { path: '/v2/metrics' } }, {}, /metrics\.path/],
      [{ http: 'not a section' }, {}, /http: expected a section/],
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
