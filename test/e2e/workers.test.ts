/**
 * `berth serve --workers 2` as a real process: one "listening" line, both workers answering on
 * the one port, tokens of one worker accepted by the other (one signing key in the store),
 * /metrics summed over the workers, a killed worker replaced, SIGTERM draining all of them and
 * exiting 0.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { get } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { basic, quickHash, writePolicy } from '../helpers/auth.js';
import { removeDir, tempDir } from '../helpers/tmp.js';
import { waitFor } from '../helpers/wait.js';
import { type BerthProcess, serverErrors, startBerthProcess } from './helpers/berth-process.js';

interface Answer {
  status: number;
  body: string;
}

/** A GET on a connection of its own: the cluster hands each new connection to the next worker. */
function getFresh(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).once('error', reject);
  });
}

interface LogLine {
  msg: string;
  worker?: number;
  path?: string;
  status?: number;
}

function parsed(logs: string[]): LogLine[] {
  return logs.flatMap((line) => {
    try {
      return [JSON.parse(line) as LogLine];
    } catch {
      return [];
    }
  });
}

/** Workers that answered `path` with `status`, by the access log. */
function answeredBy(berth: BerthProcess, path: string, status: number): Set<number> {
  const lines = parsed(berth.logs).filter(
    (l) => l.msg === 'request' && l.path === path && l.status === status,
  );
  return new Set(lines.map((line) => line.worker as number));
}

/** The pids of a process's children (the workers of a cluster primary). */
async function childrenOf(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8');
  return text.split(' ').filter(Boolean).map(Number);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('berth serve --workers 2', () => {
  let dir: string;
  let berth: BerthProcess;
  const alice: [string, string] = ['alice', 'alice-password-1'];

  before(async () => {
    dir = await tempDir('berth-workers-');
    const policy = await writePolicy(
      dir,
      `users:\n  alice: { password: "${await quickHash(alice[1])}" }\nrepositories:\n  - match: "**"\n    users: { alice: [pull, push] }\n`,
    );
    berth = await startBerthProcess({
      args: ['--workers', '2'],
      env: { BERTH_AUTH_MODE: 'token', BERTH_AUTH_POLICY: policy },
    });
  });
  after(async () => {
    await berth?.close();
    await removeDir(dir);
  });

  it('prints one "listening" line for the cluster, saying how many workers', () => {
    const listening = berth.logs.filter((line) => line.includes('listening on'));
    assert.equal(listening.length, 1, listening.join('\n'));
    assert.match(listening[0] as string, /listening on http:\/\/127\.0\.0\.1:\d+, .*2 workers/);
  });

  it('both workers answer, and accept the tokens either of them issued', async () => {
    const token = await getFresh(`${berth.url}/auth/token?service=berth&scope=repository:team/app:pull`, {
      Authorization: basic(...alice),
    });
    assert.equal(token.status, 200, token.body);
    const bearer = { Authorization: `Bearer ${(JSON.parse(token.body) as { token: string }).token}` };
    const statuses: number[] = [];
    await waitFor(async () => {
      statuses.push((await getFresh(`${berth.url}/v2/team/app/tags/list`, bearer)).status);
      return answeredBy(berth, '/v2/team/app/tags/list', 404).size === 2;
    }, 60_000);
    // 404 NAME_UNKNOWN is the answer to an accepted token; a key the worker does not know is 401.
    assert.deepEqual(new Set(statuses), new Set([404]));
  });

  it('/metrics counts the requests of every worker, whichever answers it', async () => {
    const before = parsed(berth.logs).filter((l) => l.msg === 'request' && l.path === '/v2/').length;
    for (let i = 0; i < 6; i++) await getFresh(`${berth.url}/v2/`);
    await waitFor(
      () => parsed(berth.logs).filter((l) => l.msg === 'request' && l.path === '/v2/').length === before + 6,
      30_000,
    );
    assert.equal(answeredBy(berth, '/v2/', 401).size, 2, 'both workers answered /v2/');
    const metrics = await getFresh(`${berth.url}/metrics`);
    assert.equal(metrics.status, 200, metrics.body);
    const counted = [
      ...metrics.body.matchAll(/^berth_http_requests_total\{[^}]*route="\/v2\/"[^}]*\} (\d+)/gm),
    ];
    assert.equal(
      counted.reduce((sum, match) => sum + Number(match[1]), 0),
      before + 6,
      'every /v2/ request, whichever worker served it',
    );
  });

  it('a worker that dies is replaced, and the new one answers', async () => {
    const pid = berth.child.pid as number;
    const [victim] = await childrenOf(pid);
    assert.ok(victim, 'the primary has workers');
    process.kill(victim, 'SIGKILL');
    await waitFor(() => parsed(berth.logs).some((l) => l.msg === 'worker started'), 60_000);
    const workers = await childrenOf(pid);
    assert.equal(workers.length, 2);
    assert.ok(!workers.includes(victim));
    assert.ok(parsed(berth.logs).some((l) => l.msg === 'worker exited unexpectedly: starting another'));
    await waitFor(async () => {
      await getFresh(`${berth.url}/v2/`);
      return answeredBy(berth, '/v2/', 401).has(3);
    }, 60_000);
  });

  it('SIGTERM drains every worker and exits 0', async () => {
    const workers = await childrenOf(berth.child.pid as number);
    assert.equal(await berth.stop(), 0);
    assert.ok(
      workers.every((pid) => !alive(pid)),
      'no worker is left running',
    );
    const stopped = parsed(berth.logs).filter((l) => l.msg === 'stopped');
    assert.equal(stopped.length, 3, 'two workers, then the primary');
    assert.equal(stopped.at(-1)?.worker, undefined, 'the primary stops last');
    const errors = serverErrors(berth.logs).filter((line) => !line.includes('worker exited unexpectedly'));
    assert.deepEqual(errors, []);
  });
});
