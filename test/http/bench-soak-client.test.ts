import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { RepoTarget } from '../../bench/registry-client.js';
import { runSoakClient, soakCounters } from '../../bench/soak-client.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

function target(port: number): RepoTarget {
  return { host: `127.0.0.1:${port}`, name: 'soak/client-00', headers: {} };
}

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

describe('soak client', () => {
  let berth: TestServer;
  before(async () => {
    berth = await startTestServer({ config: { auth: { mode: 'none' } } });
  });
  after(() => berth.close());

  it('pushes small images and reads them back from Berth without errors, 14 requests each', async () => {
    const port = Number(new URL(berth.directUrl).port);
    const counters = soakCounters();
    await runSoakClient(port, target(port), 'cycle', () => counters.manifests < 3, counters);
    assert.deepEqual(counters, { requests: 3 * 14, errors: 0, manifests: 3, firstErrors: [] });
    const tags = await fetch(`${berth.directUrl}/v2/soak/client-00/tags/list`).then((r) => r.json());
    assert.deepEqual(tags, { name: 'soak/client-00', tags: ['cycle-0', 'cycle-1', 'cycle-2'] });
  });

  it('counts a wrong answer as an error and goes on', async () => {
    const server = createServer((_, response) => {
      response.writeHead(500, { 'Content-Type': 'text/plain' }).end('broken');
    });
    const port = await listen(server);
    try {
      const counters = soakCounters();
      await runSoakClient(port, target(port), 'cycle', () => counters.errors < 3, counters);
      assert.equal(counters.requests, 3);
      assert.equal(counters.manifests, 0);
      assert.equal(counters.firstErrors.length, 3);
      assert.match(
        counters.firstErrors[0] as string,
        /POST \/v2\/soak\/client-00\/blobs\/uploads\/: expected HTTP 202, got 500/,
      );
    } finally {
      server.close();
    }
  });

  it('counts a dropped connection as an error and opens a new one', async () => {
    let connections = 0;
    const server = createServer((request) => request.socket.destroy());
    server.on('connection', () => connections++);
    const port = await listen(server);
    try {
      const counters = soakCounters();
      await runSoakClient(port, target(port), 'cycle', () => counters.errors < 2, counters);
      assert.equal(counters.errors, 2);
      assert.equal(connections, 3);
      assert.match(counters.firstErrors[0] as string, /closed the connection/);
    } finally {
      server.close();
    }
  });
});
