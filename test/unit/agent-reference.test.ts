import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseChallenges } from '../../src/agent/auth-client.js';
import {
  canonicalHost,
  formatReference,
  isPlainHttpByDefault,
  normaliseReference,
  parseReference,
  registryBaseUrl,
} from '../../src/agent/reference.js';

const digest = `sha256:${'ab'.repeat(32)}`;

describe('agent image references', () => {
  it('normalises docker-style references', () => {
    const cases: Array<[string, string]> = [
      ['alpine', 'docker.io/library/alpine:latest'],
      ['alpine:3.19', 'docker.io/library/alpine:3.19'],
      ['library/alpine', 'docker.io/library/alpine:latest'],
      ['bitnami/redis:7', 'docker.io/bitnami/redis:7'],
      ['docker.io/alpine', 'docker.io/library/alpine:latest'],
      ['index.docker.io/library/alpine:edge', 'docker.io/library/alpine:edge'],
      ['registry-1.docker.io/alpine', 'docker.io/library/alpine:latest'],
      ['ghcr.io/owner/app:v1.2.3', 'ghcr.io/owner/app:v1.2.3'],
      ['localhost/app', 'localhost/app:latest'],
      ['localhost:5000/app', 'localhost:5000/app:latest'],
      ['localhost:5000/team/app:v1', 'localhost:5000/team/app:v1'],
      ['127.0.0.1:5000/x', '127.0.0.1:5000/x:latest'],
      ['[::1]:5000/x:dev', '[::1]:5000/x:dev'],
      ['[::1]/x', '[::1]/x:latest'],
      ['Registry.Example.COM/app', 'registry.example.com/app:latest'],
      ['a.b.c/d/e/f_g-h.i:T_a-g.1', 'a.b.c/d/e/f_g-h.i:T_a-g.1'],
      [`alpine@${digest}`, `docker.io/library/alpine@${digest}`],
      [`127.0.0.1:5000/x@${digest}`, `127.0.0.1:5000/x@${digest}`],
      [`127.0.0.1:5000/x:v1@${digest}`, `127.0.0.1:5000/x@${digest}`],
    ];
    for (const [input, expected] of cases) assert.equal(normaliseReference(input), expected, input);
  });

  it('splits references into registry, repository, tag and digest', () => {
    assert.deepEqual(parseReference('localhost:5000/team/app:v1'), {
      registry: 'localhost:5000',
      repository: 'team/app',
      tag: 'v1',
      digest: undefined,
    });
    assert.deepEqual(parseReference(`x:v1@${digest}`), {
      registry: 'docker.io',
      repository: 'library/x',
      tag: 'v1',
      digest,
    });
    assert.deepEqual(parseReference(`example.com/x@${digest}`), {
      registry: 'example.com',
      repository: 'x',
      tag: undefined,
      digest,
    });
  });

  it('takes a single-component name with a port-like suffix as a tag, as docker does', () => {
    assert.equal(normaliseReference('localhost:5000'), 'docker.io/library/localhost:5000');
    assert.equal(normaliseReference('myhost:5000'), 'docker.io/library/myhost:5000');
  });

  it('treats a first component as a host only with a dot, a colon, localhost or upper case', () => {
    assert.equal(parseReference('team/app').registry, 'docker.io');
    assert.equal(parseReference('team/app').repository, 'team/app');
    assert.equal(parseReference('my.team/app').registry, 'my.team');
    assert.equal(parseReference('Team/app').registry, 'team');
  });

  it('refuses invalid references with a message naming the problem', () => {
    const bad: Array<[string, RegExp]> = [
      ['', /invalid reference/],
      [' alpine', /invalid reference/],
      ['Alpine', /lowercase/],
      ['docker.io/Library/alpine', /lowercase/],
      ['alpine:', /bad tag/],
      ['alpine:-bad', /bad tag/],
      [`alpine:${'t'.repeat(129)}`, /bad tag/],
      ['alpine@sha256:abc', /digest/],
      [`alpine@sha512:${'a'.repeat(128)}`, /digest/],
      [`alpine@SHA256:${'a'.repeat(64)}`, /digest/],
      ['alpine@', /digest/],
      ['/alpine', /bad repository/],
      ['localhost:5000/', /bad repository/],
      ['a//b', /bad repository/],
      ['a/../b', /bad repository/],
      ['example.com:99999/x', /bad registry host/],
      ['example.com:0/x', /bad registry host/],
      ['-bad.host/x', /bad registry host/],
      ['[zz]:5000/x', /bad registry host/],
      ['ex_ample.com/x', /bad registry host/],
      ['a__-b', /bad repository/],
      [`${'a'.repeat(256)}/x`, /bad repository/],
    ];
    for (const [input, message] of bad)
      assert.throws(() => parseReference(input), message, JSON.stringify(input));
  });

  it('formats parsed references back to the normalised form', () => {
    const ref = parseReference('localhost:5000/app');
    assert.equal(formatReference(ref), 'localhost:5000/app:latest');
    assert.equal(formatReference({ ...ref, tag: undefined, digest }), `localhost:5000/app@${digest}`);
  });

  it('speaks plain HTTP by default to loopback registries only', () => {
    for (const host of [
      'localhost',
      'localhost:5000',
      '127.0.0.1',
      '127.0.0.1:5000',
      '127.8.9.10:80',
      '[::1]',
      '[::1]:5000',
    ]) {
      assert.equal(isPlainHttpByDefault(host), true, host);
    }
    for (const host of [
      'docker.io',
      'ghcr.io',
      '10.0.0.1:5000',
      '128.0.0.1',
      '127.example.com',
      '[::2]:5000',
      'localhost.example.com',
    ]) {
      assert.equal(isPlainHttpByDefault(host), false, host);
    }
  });

  it('knows Docker Hub by its aliases and its API host', () => {
    assert.equal(canonicalHost('INDEX.docker.io'), 'docker.io');
    assert.equal(canonicalHost('Registry-1.Docker.IO'), 'docker.io');
    assert.equal(canonicalHost('127.0.0.1:5000'), '127.0.0.1:5000');
    assert.equal(registryBaseUrl('docker.io', false), 'https://registry-1.docker.io');
    assert.equal(registryBaseUrl('127.0.0.1:5000', true), 'http://127.0.0.1:5000');
  });
});

describe('agent auth challenges', () => {
  it('parses Bearer and Basic challenges, quoted and bare parameters', () => {
    assert.deepEqual(
      parseChallenges(
        'Bearer realm="https://auth.example.com/token",service="registry",scope="repository:a/b:pull"',
      ),
      [
        {
          scheme: 'bearer',
          params: {
            realm: 'https://auth.example.com/token',
            service: 'registry',
            scope: 'repository:a/b:pull',
          },
        },
      ],
    );
    assert.deepEqual(parseChallenges('Basic realm="Registry Realm", charset=UTF-8'), [
      { scheme: 'basic', params: { realm: 'Registry Realm', charset: 'UTF-8' } },
    ]);
    assert.deepEqual(parseChallenges('Basic realm="a", Bearer realm="b",service="s"'), [
      { scheme: 'basic', params: { realm: 'a' } },
      { scheme: 'bearer', params: { realm: 'b', service: 's' } },
    ]);
    assert.deepEqual(parseChallenges('Bearer realm="with \\"quote\\"",error="insufficient_scope"'), [
      { scheme: 'bearer', params: { realm: 'with "quote"', error: 'insufficient_scope' } },
    ]);
  });
});
