import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseAddress, parseDuration, parseSize } from '../../src/config/values.js';

describe('config value formats', () => {
  it('durations', () => {
    assert.equal(parseDuration('30s'), 30_000);
    assert.equal(parseDuration('168h'), 168 * 3_600_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('1.5s'), 1500);
    assert.equal(parseDuration(10), 10_000);
    assert.equal(parseDuration('10'), 10_000);
    for (const bad of ['', 'soon', '10x', 'h', '-5s', '5s garbage', null, {}])
      assert.throws(() => parseDuration(bad), /duration/);
  });

  it('sizes', () => {
    assert.equal(parseSize(4194304), 4194304);
    assert.equal(parseSize('4MiB'), 4 * 1024 * 1024);
    assert.equal(parseSize('4mb'), 4_000_000);
    assert.equal(parseSize('512 KiB'), 512 * 1024);
    assert.equal(parseSize('1g'), 1024 ** 3);
    for (const bad of ['', 'big', '5 parsecs', -1, 1.5, '-3MiB']) assert.throws(() => parseSize(bad), /size/);
  });

  it('listen addresses', () => {
    assert.deepEqual(parseAddress('0.0.0.0:5000'), { host: '0.0.0.0', port: 5000 });
    assert.deepEqual(parseAddress(':5000'), { host: '', port: 5000 });
    assert.deepEqual(parseAddress('[::1]:5001'), { host: '::1', port: 5001 });
    assert.deepEqual(parseAddress('localhost:0'), { host: 'localhost', port: 0 });
    for (const bad of ['5000', 'host:', 'a:b:c', '', 42, ':http'])
      assert.throws(() => parseAddress(bad), /host:port/);
    for (const outOfRange of ['host:99999', ':65536', '[::1]:1000000'])
      assert.throws(() => parseAddress(outOfRange), /port \d+ is out of range: ports go from 1 to 65535/);
    assert.deepEqual(parseAddress(':65535'), { host: '', port: 65535 });
  });
});
