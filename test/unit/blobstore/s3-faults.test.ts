/**
 * The S3 driver when the store is not there: stopped mid-upload, never reachable, missing its
 * bucket; and what the environment must not change (AWS_CA_BUNDLE).
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { startBerth } from '../../../src/berth.js';
import { isUnavailable } from '../../../src/blobstore/driver.js';
import { createS3Driver } from '../../../src/blobstore/s3.js';
import { buildConfig } from '../../../src/config/load.js';
import { createLogger } from '../../../src/log/logger.js';
import { createS3DriverFixture, type S3DriverFixture, s3Options } from '../../helpers/s3-driver.js';
import { type S3TestServer, startS3Server } from '../../helpers/s3-server.js';

describe('S3 driver when the store fails', () => {
  let server: S3TestServer;
  let fixture: S3DriverFixture;
  before(async () => {
    server = await startS3Server({ conditional: true });
    fixture = await createS3DriverFixture(server);
  });
  after(async () => {
    await server.start();
    const leftovers = await fixture.leftovers();
    await fixture.dispose();
    await server.dispose();
    assert.deepEqual(leftovers, []);
  });

  it('a stopped store gives StorageUnavailableError, and a retry from the last record works once it is back', async () => {
    const { driver } = fixture;
    const first = await driver.staged.write(
      await driver.staged.start('/data/st/opped'),
      Readable.from([Buffer.from('kept ')]),
    );
    await server.stop();
    await assert.rejects(driver.getContent('/anything'), (err: unknown) => isUnavailable(err));
    await assert.rejects(driver.staged.write(first, Readable.from([Buffer.from('lost')])), (err: unknown) =>
      isUnavailable(err),
    );
    await server.start();
    const second = await driver.staged.write(first, Readable.from([Buffer.from('and more')]));
    await driver.staged.commit(second, '/blobs/st/opped');
    assert.equal((await driver.getContent('/blobs/st/opped')).toString(), 'kept and more');
  });

  it('start-up stops with a message naming the bucket and the endpoint when the bucket is missing or unreachable', async () => {
    await assert.rejects(
      createS3Driver({ ...s3Options(server, 'x'), bucket: 'no-such-bucket' }),
      new RegExp(`cannot use bucket "no-such-bucket" at ${server.endpoint}: the bucket does not exist`),
    );
    const closed = 'http://127.0.0.1:1';
    await assert.rejects(
      createS3Driver({ ...s3Options(server, 'x'), endpoint: closed, maxAttempts: 2 }),
      /cannot use bucket "berth-test" at http:\/\/127\.0\.0\.1:1: ECONNREFUSED/,
    );
    const { config } = buildConfig(
      {
        http: { addr: '127.0.0.1:0' },
        storage: server.storageConfig('', { bucket: 'absent' }),
      },
      {},
      'test',
    );
    const logger = createLogger({ level: 'error', formatter: 'json', write: () => {} });
    await assert.rejects(
      startBerth(config, logger),
      /^ConfigError: storage\.s3\.bucket: cannot use bucket "absent"/,
    );
  });

  it('does not read AWS_CA_BUNDLE: a bundle that does not exist changes nothing', async () => {
    const saved = process.env.AWS_CA_BUNDLE;
    process.env.AWS_CA_BUNDLE = '/nonexistent/ca-bundle.pem';
    try {
      const driver = await createS3Driver(s3Options(server, fixture.rootDirectory));
      await driver.putContent('/ca/bundle', Buffer.from('fine'));
      assert.equal((await driver.getContent('/ca/bundle')).toString(), 'fine');
    } finally {
      if (saved === undefined) delete process.env.AWS_CA_BUNDLE;
      else process.env.AWS_CA_BUNDLE = saved;
    }
  });
});
