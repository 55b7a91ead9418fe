/** The storage.s3 keys: defaults, environment overrides, validation naming the key. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildConfig, ConfigError } from '../../src/config/load.js';

const MIB = 1024 * 1024;

function rejects(document: Record<string, unknown>, env: Record<string, string>, message: RegExp): void {
  assert.throws(
    () => buildConfig(document, env, 'c.yml'),
    (err: unknown) => err instanceof ConfigError && message.test(err.message),
    String(message),
  );
}

describe('configuration of S3 storage', () => {
  it('defaults: us-east-1, 16 MiB parts, two at once, no redirects, 20 minute URLs', () => {
    const { config } = buildConfig({ storage: { driver: 's3', s3: { bucket: 'images' } } }, {}, 'c.yml');
    assert.equal(config.storage.driver, 's3');
    assert.deepEqual(config.storage.s3, {
      bucket: 'images',
      region: 'us-east-1',
      regionendpoint: '',
      forcepathstyle: false,
      rootdirectory: '',
      accesskey: '',
      secretkey: '',
      chunksize: 16 * MIB,
      multipartconcurrency: 2,
      redirect: false,
      redirectexpiry: 20 * 60_000,
    });
  });

  it('every key can come from BERTH_STORAGE_S3_* variables', () => {
    const { config } = buildConfig(
      {},
      {
        BERTH_STORAGE_DRIVER: 's3',
        BERTH_STORAGE_S3_BUCKET: 'images',
        BERTH_STORAGE_S3_REGION: 'eu-west-1',
        BERTH_STORAGE_S3_REGIONENDPOINT: 'http://minio:9000',
        BERTH_STORAGE_S3_FORCEPATHSTYLE: 'true',
        BERTH_STORAGE_S3_ROOTDIRECTORY: '/registry/',
        BERTH_STORAGE_S3_ACCESSKEY: 'AKIA',
        BERTH_STORAGE_S3_SECRETKEY: 'secret',
        BERTH_STORAGE_S3_CHUNKSIZE: '32MiB',
        BERTH_STORAGE_S3_MULTIPARTCONCURRENCY: '4',
        BERTH_STORAGE_S3_REDIRECT: 'true',
        BERTH_STORAGE_S3_REDIRECTEXPIRY: '5m',
      },
      'c.yml',
    );
    assert.deepEqual(config.storage.s3, {
      bucket: 'images',
      region: 'eu-west-1',
      regionendpoint: 'http://minio:9000',
      forcepathstyle: true,
      rootdirectory: 'registry',
      accesskey: 'AKIA',
      secretkey: 'secret',
      chunksize: 32 * MIB,
      multipartconcurrency: 4,
      redirect: true,
      redirectexpiry: 5 * 60_000,
    });
  });

  it('bad values name the key and say what is expected', () => {
    const s3 = (values: Record<string, unknown>) => ({
      storage: { driver: 's3', s3: { bucket: 'images', ...values } },
    });
    rejects(s3({ chunksize: '4MiB' }), {}, /storage\.s3\.chunksize: expected a part size from 5MiB/);
    rejects(s3({ chunksize: '6GiB' }), {}, /storage\.s3\.chunksize: .*to 5GiB/);
    rejects(
      s3({ multipartconcurrency: 0 }),
      {},
      /storage\.s3\.multipartconcurrency: expected a whole number >= 1/,
    );
    rejects(s3({ regionendpoint: 'minio:9000' }), {}, /storage\.s3\.regionendpoint: expected an http/);
    rejects(s3({ rootdirectory: 'a/../b' }), {}, /storage\.s3\.rootdirectory: expected a key prefix/);
    rejects(
      s3({ redirectexpiry: '8d' }),
      {},
      /storage\.s3\.redirectexpiry: expected a duration from 1s to 7d/,
    );
    rejects(s3({ bucket: 'no spaces' }), {}, /storage\.s3\.bucket: expected a bucket name/);
    rejects(
      {},
      { BERTH_STORAGE_S3_FORCEPATHSTYLE: 'yes' },
      /BERTH_STORAGE_S3_FORCEPATHSTYLE \(storage\.s3\.forcepathstyle\)/,
    );
  });

  it('rules across keys: a bucket with s3, both credentials or neither; the token key needs no setting', () => {
    rejects({ storage: { driver: 's3' } }, {}, /storage\.driver s3 needs storage\.s3\.bucket/);
    rejects(
      { storage: { driver: 's3', s3: { bucket: 'images', accesskey: 'AKIA' } } },
      {},
      /storage\.s3\.accesskey and storage\.s3\.secretkey go together/,
    );
    // The built-in token server keeps its key in the bucket, which every replica shares.
    assert.doesNotThrow(() =>
      buildConfig(
        {
          storage: { driver: 's3', s3: { bucket: 'images' } },
          auth: { mode: 'token', policy: '/etc/berth/policy.yml' },
        },
        {},
        'c.yml',
      ),
    );
    assert.doesNotThrow(() =>
      buildConfig(
        {
          storage: { driver: 's3', s3: { bucket: 'images' } },
          auth: { mode: 'token', policy: '/p.yml', token: { signingkey: '/run/secrets/key.pem' } },
        },
        {},
        'c.yml',
      ),
    );
  });

  it("distribution's S3 settings Berth lacks stop start-up saying what to do, or are ignored with a reason", () => {
    rejects(
      { storage: { s3: { secure: false } } },
      {},
      /storage\.s3\.secure is not supported: write the scheme/,
    );
    rejects({ storage: { s3: { v4auth: true } } }, {}, /storage\.s3\.v4auth is not supported/);
    rejects(
      { storage: { s3: { encrypt: true } } },
      {},
      /storage\.s3\.encrypt is not supported: set default encryption/,
    );
    rejects(
      { storage: { s3: { storageclass: 'STANDARD' } } },
      {},
      /storage\.s3\.storageclass is not supported/,
    );
    rejects({ storage: { s3: { skipverify: true } } }, {}, /NODE_EXTRA_CA_CERTS/);
    rejects(
      {},
      { BERTH_STORAGE_S3_KEYID: 'k' },
      /BERTH_STORAGE_S3_KEYID \(storage\.s3\.keyid\) is not supported/,
    );
    const { warnings } = buildConfig(
      { storage: { s3: { multipartcopychunksize: 33554432 }, redirect: { disable: true } } },
      {},
      'c.yml',
    );
    assert.match(warnings.join('\n'), /storage\.s3\.multipartcopychunksize .*ignored \(Berth never copies/);
    assert.match(warnings.join('\n'), /storage\.redirect .*ignored \(.*storage\.s3\.redirect/);
  });

  it("a storage.s3 section without storage.driver means S3, as the section does in distribution's config", () => {
    const fromFile = buildConfig({ storage: { s3: { bucket: 'images' } } }, {}, 'c.yml');
    assert.equal(fromFile.config.storage.driver, 's3');
    const fromEnv = buildConfig({}, { BERTH_STORAGE_S3_BUCKET: 'images' }, 'c.yml');
    assert.equal(fromEnv.config.storage.driver, 's3');
    assert.equal(buildConfig({}, {}, 'c.yml').config.storage.driver, 'filesystem');
    rejects({ storage: { s3: { region: 'eu-west-1' } } }, {}, /storage\.driver s3 needs storage\.s3\.bucket/);
  });

  it('an explicit storage.driver wins over S3 keys next to it (a full example config sets every key)', () => {
    const document = { storage: { driver: 'filesystem', s3: { bucket: 'images', region: 'eu-west-1' } } };
    assert.equal(buildConfig(document, {}, 'c.yml').config.storage.driver, 'filesystem');
  });
});
