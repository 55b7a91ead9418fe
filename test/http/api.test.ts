import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import request from 'supertest';
import { createApp } from '../../src/app.js';
import { OPEN_AUTHORIZER } from '../../src/auth/authorizer.js';
import type { StorageDriver } from '../../src/blobstore/driver.js';
import { buildConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/log/logger.js';
import { createMetrics } from '../../src/metrics/metrics.js';
import { createRegistry } from '../../src/registry/registry.js';
import { type RunningServer, startServer } from '../../src/server.js';
import { ociError, pushImage, sha256 } from '../helpers/oci.js';
import { startTestServer, type TestServer } from '../helpers/server.js';
import { waitFor } from '../helpers/wait.js';

describe('API basics', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({
      config: { http: { headers: { 'X-Content-Type-Options': ['nosniff'] } } },
    });
  });
  after(() => server.close());

  it('GET /v2/ is 200 with Docker-Distribution-API-Version', async () => {
    for (const path of ['/v2/', '/v2']) {
      const res = await request(server.url).get(path).expect(200);
      assert.equal(res.headers['docker-distribution-api-version'], 'registry/2.0');
      assert.deepEqual(res.body, {});
    }
  });

  it('requests reach Berth through the token flow when the suite runs with auth on', async () => {
    const withAuth = process.env.BERTH_TEST_AUTH === 'token';
    const direct = await request(server.directUrl).get('/v2/');
    assert.equal(direct.status, withAuth ? 401 : 200);
    if (withAuth) assert.match(String(direct.headers['www-authenticate']), /^Bearer realm="/);
    await request(server.url).get('/v2/').expect(200);
  });

  it('configured http.headers are on every response, errors included', async () => {
    const ok = await request(server.url).get('/v2/').expect(200);
    assert.equal(ok.headers['x-content-type-options'], 'nosniff');
    const error = await request(server.url).get('/v2/nope/tags/list').expect(404);
    assert.equal(error.headers['x-content-type-options'], 'nosniff');
    assert.equal(error.headers['docker-distribution-api-version'], 'registry/2.0');
  });

  it('every response carries a request id, and a sane client id is echoed', async () => {
    const generated = await request(server.url).get('/v2/').expect(200);
    assert.match(generated.headers['x-request-id'] as string, /^[0-9a-f-]{36}$/);
    const echoed = await request(server.url).get('/v2/').set('X-Request-Id', 'abc-123').expect(200);
    assert.equal(echoed.headers['x-request-id'], 'abc-123');
    const refused = await request(server.url)
      .get('/v2/')
      .set('X-Request-Id', 'bad id with spaces')
      .expect(200);
    assert.notEqual(refused.headers['x-request-id'], 'bad id with spaces');
  });

  it('invalid repository names are 400 NAME_INVALID, including traversal attempts', async () => {
    const names = [
      'UPPER/case',
      'a/../b',
      '..',
      'a%2Fb',
      'a%2fb',
      '%2e%2e/etc',
      '/etc/passwd',
      'a//b',
      'a/',
      '-lead',
      'trail-',
      'a..b',
      `a${'/b'.repeat(128)}`,
      '_catalog',
      'spaces%20here',
    ];
    for (const name of names) {
      const res = await request(server.url).get(`/v2/${name}/tags/list`);
      assert.equal(res.status, 400, name);
      assert.equal(ociError(res.body).code, 'NAME_INVALID', name);
    }
    const long = await request(server.url)
      .get(`/v2/${'a'.repeat(256)}/manifests/latest`)
      .expect(400);
    assert.equal(ociError(long.body).code, 'NAME_INVALID');
    await request(server.url)
      .head(`/v2/${'a'.repeat(255)}/manifests/latest`)
      .expect(404);
  });

  it('valid names with separators work', async () => {
    for (const name of ['a.b/c_d/e__f/g-h/i---j', 'x0/9y']) {
      await pushImage(server.url, name, 'v1');
      await request(server.url).get(`/v2/${name}/manifests/v1`).expect(200);
    }
  });

  it('an unknown endpoint is 404 with OCI error JSON; a wrong method is 405 with Allow', async () => {
    const unknown = await request(server.url).get('/v2/foo/bar').expect(404);
    assert.equal(ociError(unknown.body).code, 'UNSUPPORTED');
    const outside = await request(server.url).get('/nothing-here').expect(404);
    assert.equal(ociError(outside.body).code, 'UNSUPPORTED');
    const method = await request(server.url).post('/v2/foo/manifests/latest').expect(405);
    assert.equal(ociError(method.body).code, 'UNSUPPORTED');
    assert.match(method.headers.allow as string, /GET/);
    assert.match(method.headers.allow as string, /PUT/);
  });

  it('malformed input never yields a 500', async () => {
    const attempts: Array<() => request.Test> = [
      () => request(server.url).get('/v2/%/tags/list'),
      () => request(server.url).get('/v2/a/manifests/%E0%A4%A'),
      () => request(server.url).get('/v2/a/blobs/%ZZ'),
      () =>
        request(server.url)
          .put('/v2/a/manifests/latest')
          .set('Content-Type', 'application/json')
          .send('{"schemaVersion":2,"manifests":[{"digest":5}]}'),
      () => request(server.url).put('/v2/a/manifests/latest').set('Content-Type', '%%%').send('{'),
      () =>
        request(server.url)
          .patch('/v2/a/blobs/uploads/00000000-0000-0000-0000-000000000000')
          .set('Content-Range', '5-1')
          .send('x'),
      () => request(server.url).post('/v2/a/blobs/uploads/?digest=sha256:').send('x'),
      () => request(server.url).post('/v2/a/blobs/uploads/?mount=&from='),
      () => request(server.url).get('/v2/_catalog?n=99999999999999999999'),
      () => request(server.url).get('/v2/a/tags/list?n=1&n=2&last=a&last=b'),
      () => request(server.url).get(`/v2/a/referrers/${sha256('x')}?artifactType=&artifactType=b`),
      () =>
        request(server.url)
          .get(`/v2/a/blobs/${sha256('x')}`)
          .set('Range', 'bytes=99999999999999999999-'),
    ];
    for (const attempt of attempts) {
      const res = await attempt();
      assert.ok(res.status < 500, `${res.status} ${res.text}`);
      if (res.status >= 400) ociError(res.body);
    }
  });

  it('GET /healthz and /readyz answer 200', async () => {
    const live = await request(server.url).get('/healthz').expect(200);
    assert.deepEqual(live.body, { status: 'ok' });
    await request(server.url).get('/readyz').expect(200);
  });

  it('GET /metrics exposes request counts and durations by route template and status', async () => {
    await request(server.url).get('/v2/').expect(200);
    await request(server.url).get('/v2/nope/tags/list').expect(404);
    const res = await request(server.url).get('/metrics').expect(200);
    assert.match(res.headers['content-type'] as string, /text\/plain/);
    assert.match(res.text, /berth_http_requests_total\{method="GET",route="\/v2\/",status="200"\} \d+/);
    assert.match(
      res.text,
      /berth_http_requests_total\{method="GET",route="\/v2\/<name>\/tags\/list",status="404"\} \d+/,
    );
    assert.match(
      res.text,
      /berth_http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/v2\/"/,
    );
    assert.match(res.text, /berth_uploads_in_progress 0/);
    assert.match(
      res.text,
      new RegExp(
        `berth_storage_operation_duration_seconds_count\\{driver="${server.driver.name}",operation="list"`,
      ),
    );
    assert.match(res.text, /berth_http_response_bytes_total\{route="\/v2\/"\} \d+/);
  });

  it('writes one JSON access log line per request with the essentials', async () => {
    const before = server.logs.length;
    await request(server.url).get('/v2/nope/tags/list').set('X-Request-Id', 'log-me').expect(404);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const lines = server.logs.slice(before).map((line) => JSON.parse(line));
    const entry = lines.find((line) => line.request_id === 'log-me');
    assert.ok(entry, 'access log line present');
    assert.equal(entry.msg, 'request');
    assert.equal(entry.method, 'GET');
    assert.equal(entry.path, '/v2/nope/tags/list');
    assert.equal(entry.status, 404);
    assert.equal(typeof entry.duration_ms, 'number');
    assert.equal(typeof entry.bytes_out, 'number');
    assert.ok(entry.bytes_out > 0);
    assert.equal(lines.filter((line) => line.request_id === 'log-me').length, 1);
  });

  it('the access log shows the query string, with credential-like values redacted and long ones cut', async () => {
    const before = server.logs.length;
    const digest = sha256('not pushed anywhere');
    const requests: Array<[string, string]> = [
      ['log-list', '/v2/nope/tags/list?n=5&last=a'],
      ['log-secret', '/v2/nope/tags/list?n=1&access_token=abc123&X-Amz-Signature=def456&password=hunter2'],
      ['log-long', `/v2/nope/tags/list?last=${'x'.repeat(3000)}`],
    ];
    for (const [id, path] of requests) {
      await request(server.url).get(path).set('X-Request-Id', id).expect(404);
    }
    await request(server.url)
      .post(`/v2/logq/app/blobs/uploads/?mount=${digest}&from=logq/base`)
      .set('X-Request-Id', 'log-mount')
      .expect(202);
    const entry = async (id: string): Promise<Record<string, unknown>> => {
      const find = () =>
        server.logs
          .slice(before)
          .map((line) => JSON.parse(line))
          .find((l) => l.request_id === id);
      await waitFor(() => find() !== undefined);
      return find();
    };
    assert.equal((await entry('log-list')).query, 'n=5&last=a');
    assert.equal((await entry('log-mount')).query, `mount=${digest}&from=logq/base`);
    assert.equal((await entry('log-mount')).path, '/v2/logq/app/blobs/uploads/');
    assert.equal(
      (await entry('log-secret')).query,
      'n=1&access_token=[redacted]&X-Amz-Signature=[redacted]&password=[redacted]',
    );
    const long = String((await entry('log-long')).query);
    assert.ok(long.length <= 1100 && long.startsWith('last=xxx') && long.endsWith('…'), long.slice(-20));
    assert.equal((await entry('log-list')).path, '/v2/nope/tags/list');
    const written = server.logs.slice(before).join('\n');
    for (const secret of ['abc123', 'def456', 'hunter2']) assert.ok(!written.includes(secret), secret);
  });
});

describe('storage failures', () => {
  let server: RunningServer;
  const logs: string[] = [];
  before(async () => {
    const broken = new Proxy({} as StorageDriver, {
      get(_target, property) {
        if (property === 'name') return 'broken';
        return () => Promise.reject(new Error('disk on fire at /secret/path'));
      },
    });
    const { config } = buildConfig({}, {}, 'test');
    const registry = createRegistry({
      driver: broken,
      deleteEnabled: true,
      cache: 'none',
      manifestLimits: { maxDescriptors: 10_000 },
    });
    const logger = createLogger({ level: 'debug', formatter: 'json', write: (line) => logs.push(line) });
    server = await startServer(
      createApp({
        registry,
        logger,
        metrics: createMetrics(),
        auth: { authorizer: OPEN_AUTHORIZER, tokenService: undefined },
        config,
      }),
      '127.0.0.1:0',
    );
  });
  after(() => server.close(100));

  it('an unexpected storage error is a 500 UNKNOWN that leaks nothing, and is logged', async () => {
    const res = await request(server.url).get('/v2/a/manifests/latest').expect(500);
    const error = ociError(res.body);
    assert.equal(error.code, 'UNKNOWN');
    assert.doesNotMatch(res.text, /disk on fire|secret/);
    assert.ok(logs.some((line) => line.includes('disk on fire') && line.includes('"level":"error"')));
  });

  it('/readyz is 503 while /healthz stays 200', async () => {
    const ready = await request(server.url).get('/readyz').expect(503);
    assert.equal(ociError(ready.body).code, 'UNKNOWN');
    await request(server.url).get('/healthz').expect(200);
  });
});
