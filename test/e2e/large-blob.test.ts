/**
 * A 1 GiB blob pushed (one streamed PATCH, as docker and podman do) and pulled back through a
 * real Berth process, whose peak resident memory must stay under 200 MiB: nothing holds a
 * blob whole.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type BerthProcess, startBerthProcess } from './helpers/berth-process.js';
import { generatedBody, hashDownload, sendStream } from './helpers/stream-client.js';

const GIB = 1024 * 1024 * 1024;
const RSS_LIMIT = 200 * 1024 * 1024;

describe('a 1 GiB blob', () => {
  let berth: BerthProcess;
  before(async () => {
    berth = await startBerthProcess();
  });
  after(() => berth.close());

  it('is pushed and pulled intact with the server staying under 200 MiB of RSS', async () => {
    const started = await sendStream(`${berth.url}/v2/big/blob/blobs/uploads/`, 'POST', undefined);
    assert.equal(started.status, 202);
    const location = `${berth.url}${started.headers.location}`;
    const body = generatedBody(GIB);
    const patched = await sendStream(location, 'PATCH', body.stream, {
      'Content-Type': 'application/octet-stream',
    });
    assert.equal(patched.status, 202, patched.text);
    assert.equal(patched.headers.range, `0-${GIB - 1}`);
    const digest = await body.digest;
    const put = await sendStream(
      `${berth.url}${patched.headers.location}?digest=${digest}`,
      'PUT',
      undefined,
    );
    assert.equal(put.status, 201, put.text);

    const pulled = await hashDownload(`${berth.url}/v2/big/blob/blobs/${digest}`);
    assert.equal(pulled.status, 200);
    assert.equal(pulled.size, GIB);
    assert.equal(pulled.digest, digest);

    const peak = await berth.peakRss();
    console.log(`peak RSS of berth after 1 GiB push + pull: ${(peak / 1024 / 1024).toFixed(1)} MiB`);
    assert.ok(peak < RSS_LIMIT, `peak RSS ${(peak / 1024 / 1024).toFixed(1)} MiB must stay under 200 MiB`);
  });
});
