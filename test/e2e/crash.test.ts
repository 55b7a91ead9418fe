/**
 * A server killed with SIGKILL in the middle of an upload: after a restart nothing partial is
 * visible, the session reports only what was acknowledged, and the client can resume and finish.
 */
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, describe, it } from 'node:test';
import { CLAIM_TTL_MS } from '../../src/registry/upload-session.js';
import { removeDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { type BerthProcess, startBerthProcess } from './helpers/berth-process.js';
import { generatedBody, hashDownload, sendStream } from './helpers/stream-client.js';

const SIZE = 256 * 1024 * 1024;

describe('crash safety', () => {
  let berth: BerthProcess | undefined;
  let root: string | undefined;
  after(async () => {
    await berth?.kill();
    if (root) await removeDir(root);
  });

  it('SIGKILL mid-upload exposes no partial blob, and the session resumes after restart', async () => {
    const first = await startBerthProcess();
    berth = first;
    root = first.root;
    const started = await sendStream(`${first.url}/v2/crash/test/blobs/uploads/`, 'POST', undefined);
    const path = String(started.headers.location);
    const body = generatedBody(SIZE);
    // Collect the whole content on the client side so it can be resent from any offset.
    const chunks: Buffer[] = [];
    body.stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    await new Promise((resolve) => body.stream.on('end', resolve));
    const content = Buffer.concat(chunks);
    const digest = await body.digest;

    const req = request(`${first.url}${path}`, {
      method: 'PATCH',
      headers: { 'Content-Length': String(SIZE) },
    });
    req.on('error', () => {});
    let offset = 0;
    const pump = (): void => {
      while (offset < SIZE * 0.6) {
        const next = content.subarray(offset, offset + 1024 * 1024);
        offset += next.length;
        if (!req.write(next)) {
          req.once('drain', pump);
          return;
        }
      }
    };
    pump();
    // Killed while the chunk streams: the server has taken a good part of it, acknowledged none.
    await waitFor(async () => {
      const metrics = await sendStream(`${first.url}/metrics`, 'GET', undefined);
      return /^berth_uploads_in_progress 1$/m.test(metrics.text) && offset >= SIZE * 0.3;
    }, 60_000);
    await first.kill();
    req.destroy();

    const second = await startBerthProcess({ root });
    berth = second;
    const head = await sendStream(`${second.url}/v2/crash/test/blobs/${digest}`, 'HEAD', undefined);
    assert.equal(head.status, 404, 'no partial blob is visible');
    const catalog = await sendStream(`${second.url}/v2/_catalog`, 'GET', undefined);
    assert.deepEqual(
      JSON.parse(catalog.text).repositories,
      [],
      'the unfinished upload created no repository',
    );

    const status = await sendStream(`${second.url}${path}`, 'GET', undefined);
    assert.equal(status.status, 204);
    // `0-0` is how an empty session answers, as distribution does.
    assert.equal(status.headers.range, '0-0', 'a chunk cut off by the crash was never acknowledged');
    const received = 0;
    // The dead process's claim on the session runs out (CLAIM_TTL_MS) before anyone may write;
    // until then a request is told where the session stands.
    const statuses = new Set<number>();
    await waitFor(async () => {
      const empty = await sendStream(`${second.url}${path}`, 'PATCH', undefined);
      statuses.add(empty.status);
      return empty.status === 202;
    }, CLAIM_TTL_MS + 30_000);
    assert.deepEqual(
      [...statuses].filter((status) => status !== 202 && status !== 416),
      [],
    );
    const resumed = await new Promise<number>((resolve, reject) => {
      const patch = request(`${second.url}${path}`, {
        method: 'PATCH',
        headers: { 'Content-Range': `${received}-${SIZE - 1}`, 'Content-Length': String(SIZE - received) },
      });
      patch.on('error', reject);
      patch.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      patch.end(content.subarray(received));
    });
    assert.equal(resumed, 202);
    const put = await sendStream(`${second.url}${path}?digest=${digest}`, 'PUT', undefined);
    assert.equal(put.status, 201, put.text);
    const pulled = await hashDownload(`${second.url}/v2/crash/test/blobs/${digest}`);
    assert.equal(pulled.digest, digest);
    assert.equal(pulled.size, SIZE);
  });
});
