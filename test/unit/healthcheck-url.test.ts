/** Where `berth healthcheck` looks for the server, given `http.addr`. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { localBaseUrl } from '../../src/cli/healthcheck.js';

describe('healthcheck address', () => {
  it('asks loopback when Berth listens on every interface', () => {
    assert.equal(localBaseUrl('0.0.0.0:5000'), 'http://127.0.0.1:5000');
    assert.equal(localBaseUrl(':5001'), 'http://127.0.0.1:5001');
    assert.equal(localBaseUrl('[::]:5002'), 'http://[::1]:5002');
  });

  it('asks the named address otherwise, with brackets for IPv6', () => {
    assert.equal(localBaseUrl('10.1.2.3:80'), 'http://10.1.2.3:80');
    assert.equal(localBaseUrl('[fd00::5]:5000'), 'http://[fd00::5]:5000');
    assert.equal(localBaseUrl('registry.internal:5000'), 'http://registry.internal:5000');
  });
});
