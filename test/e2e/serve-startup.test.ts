/**
 * `berth serve` start-up failures as an operator meets them: a real `./bin/berth serve` process
 * that exits at once with one line on stderr naming the problem and the path or address, and
 * no stack trace. Some cases run Berth as `nobody` (uid 65534), as a service account would be,
 * since root may write anywhere.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmod, chown, mkdir, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { usersSection, writePolicy } from '../helpers/auth.js';
import { startS3Server } from '../helpers/s3-server.js';
import { removeDir, tempDir } from '../helpers/tmp.js';
import { BERTH_BIN } from './helpers/berth-process.js';

const NOBODY = 65534;

interface Exit {
  code: number | null;
  stderr: string;
}

/**
 * Runs `berth serve` with `env` (as `uid` when given) until it exits; one that keeps running
 * has not failed as it should and is stopped after a minute.
 */
function serve(env: Record<string, string>, cwd: string, uid?: number, args: string[] = []): Promise<Exit> {
  return new Promise((resolve, reject) => {
    const child = spawn(BERTH_BIN, ['serve', ...args], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd, ...env },
      cwd,
      stdio: ['ignore', 'ignore', 'pipe'],
      timeout: 60_000,
      ...(uid === undefined ? {} : { uid, gid: uid }),
    });
    let stderr = '';
    child.stderr.on('data', (data: Buffer) => {
      stderr += data.toString();
    });
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stderr }));
  });
}

/** Asserts `exit` is `code` with exactly one line on stderr matching `line`, no stack trace. */
function assertOneLine(exit: Exit, code: number, line: RegExp): void {
  assert.equal(exit.code, code, exit.stderr);
  assert.doesNotMatch(exit.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(exit.stderr.split('\n').length, 2, `one line: ${exit.stderr}`);
  assert.match(exit.stderr, line);
}

describe('berth serve start-up failures', () => {
  let dir: string;
  let writable: string;
  const env = (extra: Record<string, string>) => ({
    BERTH_HTTP_ADDR: '127.0.0.1:0',
    BERTH_STORAGE_FILESYSTEM_ROOTDIRECTORY: writable,
    ...extra,
  });

  before(async () => {
    dir = await tempDir('berth-startup-');
    // nobody must be able to reach the checkout and the test directory.
    await chmod(dir, 0o755);
    writable = join(dir, 'nobody-data');
    await mkdir(writable);
    await chown(writable, NOBODY, NOBODY);
  });
  after(() => removeDir(dir));

  it('a port in use: exit 3, naming the address, once also with --workers 2', async () => {
    const taken = await listenOnLoopback();
    try {
      const port = (taken.address() as { port: number }).port;
      for (const args of [[], ['--workers', '2']]) {
        const exit = await serve(env({ BERTH_HTTP_ADDR: `127.0.0.1:${port}` }), dir, undefined, args);
        assertOneLine(
          exit,
          3,
          new RegExp(
            `^berth: http\\.addr: cannot listen on 127\\.0\\.0\\.1:${port}: address already in use\\n$`,
          ),
        );
      }
    } finally {
      taken.close();
    }
  });

  it('an address that is not one of this host: exit 3, saying so', async () => {
    // TEST-NET-3 (RFC 5737): documentation addresses no host is given.
    const exit = await serve(env({ BERTH_HTTP_ADDR: '203.0.113.77:5000' }), dir);
    assertOneLine(
      exit,
      3,
      /^berth: http\.addr: cannot listen on 203\.0\.113\.77:5000: address not available\n$/,
    );
  });

  it('a storage root that is a file: exit 2, naming the key and the path', async () => {
    const file = join(dir, 'a-file');
    await writeFile(file, 'not a directory');
    const exit = await serve(env({ BERTH_STORAGE_FILESYSTEM_ROOTDIRECTORY: file }), dir);
    assertOneLine(
      exit,
      2,
      new RegExp(`^berth: storage\\.filesystem\\.rootdirectory: ${file} is not a directory\\n$`),
    );
    const below = await serve(env({ BERTH_STORAGE_FILESYSTEM_ROOTDIRECTORY: join(file, 'data') }), dir);
    assertOneLine(below, 2, new RegExp(`: cannot create ${file}/data: not a directory\\n$`));
  });

  it('a storage root Berth may not write in, or not create: exit 2, naming the path', async () => {
    const rootOwned = join(dir, 'root-owned');
    await mkdir(rootOwned, { mode: 0o755 });
    const exit = await serve(env({ BERTH_STORAGE_FILESYSTEM_ROOTDIRECTORY: rootOwned }), dir, NOBODY);
    assertOneLine(
      exit,
      2,
      new RegExp(
        `^berth: storage\\.filesystem\\.rootdirectory: ${rootOwned} is not writable: permission denied\\n$`,
      ),
    );
    const inside = join(rootOwned, 'data');
    const create = await serve(env({ BERTH_STORAGE_FILESYSTEM_ROOTDIRECTORY: inside }), dir, NOBODY);
    assertOneLine(create, 2, new RegExp(`: cannot create ${inside}: permission denied\\n$`));
  });

  it('a store with a directory Berth may not read (written by another user): exit 2, naming the path', async () => {
    const data = join(dir, 'mixed-data');
    await mkdir(join(data, 'migrations'), { recursive: true, mode: 0o700 });
    await chown(data, NOBODY, NOBODY);
    const exit = await serve(env({ BERTH_STORAGE_FILESYSTEM_ROOTDIRECTORY: data }), dir, NOBODY);
    assertOneLine(exit, 2, new RegExp(`^berth: ${data}/migrations/\\S+: permission denied\\n$`));
  });

  it('a policy file Berth may not read, or that is missing: exit 2, naming the key and the file', async () => {
    const policy = join(dir, 'policy.yml');
    await writeFile(policy, 'users: {}\n', { mode: 0o600 });
    // A root of its own: the tests above ran Berth as root on `writable`, whose directories
    // (mode 0700) nobody may read.
    const data = join(dir, 'policy-data');
    await mkdir(data);
    await chown(data, NOBODY, NOBODY);
    const auth = {
      BERTH_AUTH_MODE: 'basic',
      BERTH_AUTH_POLICY: policy,
      BERTH_STORAGE_FILESYSTEM_ROOTDIRECTORY: data,
    };
    const unreadable = await serve(env(auth), dir, NOBODY);
    assertOneLine(
      unreadable,
      2,
      new RegExp(`^berth: auth\\.policy: cannot read ${policy}: .*permission denied`),
    );
    const missing = join(dir, 'no-such-policy.yml');
    const gone = await serve(env({ ...auth, BERTH_AUTH_POLICY: missing }), dir);
    assertOneLine(gone, 2, new RegExp(`^berth: auth\\.policy: cannot read ${missing}: .*no such file`));
    const workers = await serve(env({ ...auth, BERTH_AUTH_POLICY: missing }), dir, undefined, [
      '--workers',
      '2',
    ]);
    assertOneLine(workers, 2, new RegExp(`^berth: auth\\.policy: cannot read ${missing}: .*no such file`));
  });

  it('a bucket that answers the probe but fails while the signing key is read: exit 1, saying storage is unavailable', async () => {
    const s3 = await startS3Server({ conditional: true });
    try {
      // More failures than the driver's retries, on the one object token auth reads at start-up.
      s3.inject({
        operation: 'GetObject',
        key: /token-signing-key/,
        status: 503,
        code: 'SlowDown',
        times: 50,
      });
      const policy = await writePolicy(dir, await usersSection(['alice']));
      const exit = await serve(
        {
          BERTH_HTTP_ADDR: '127.0.0.1:0',
          BERTH_AUTH_MODE: 'token',
          BERTH_AUTH_POLICY: policy,
          ...s3.env('startup'),
        },
        dir,
      );
      assert.equal(exit.code, 1, exit.stderr);
      assert.doesNotMatch(exit.stderr, /\n\s+at /, 'no stack trace');
      // The AWS SDK may warn about the Node version first; Berth's own line is the last one.
      const last = exit.stderr.trimEnd().split('\n').at(-1) ?? '';
      assert.match(last, /^berth: storage unavailable: .*token-signing-key/);
    } finally {
      await s3.dispose();
    }
  });
});

function listenOnLoopback(): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}
