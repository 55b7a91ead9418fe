/**
 * Scenario h (`--auth token` only): `GET /auth/token` with Basic credentials, as a client
 * logging in before a pull. A credential's first login pays bcrypt; later ones within 5
 * minutes hit the server's memory of verified credentials and cost a token signature.
 */
import { performance } from 'node:perf_hooks';
import { type Account, tokenRequestHead } from '../auth.js';
import { closeAll, openConnections, runClosedLoop } from '../load.js';
import type { RawConnection } from '../raw-http.js';
import { BenchError, expectStatus } from '../registry-client.js';
import { median } from '../stats.js';
import type { MeasurementPart, Scenario, ScenarioContext } from './types.js';

const REPO = 'bench/token';
/** What a pull asks for. */
const ACTIONS = 'pull';
/** Warm concurrencies measured besides the configured one, which is the headline. */
const WARM_CONCURRENCIES = [1, 8];

/** One token request by `account`; resolves with its latency in ms. */
async function login(conn: RawConnection, ctx: ScenarioContext, account: Account): Promise<number> {
  const started = performance.now();
  const response = await conn.request(tokenRequestHead(ctx.host, account, REPO, ACTIONS), { keepBody: true });
  const elapsed = performance.now() - started;
  expectStatus(response, 200, `GET /auth/token as ${account.username}`);
  const body = JSON.parse((response.body as Buffer).toString('utf8')) as { token?: unknown };
  if (typeof body.token !== 'string')
    throw new BenchError(`GET /auth/token as ${account.username}: no token`);
  return elapsed;
}

/** Logins of `accounts`, all at once, one connection each; latencies in ms. */
async function loginAll(ctx: ScenarioContext, accounts: readonly Account[]): Promise<number[]> {
  const connections = await openConnections(ctx.port, accounts.length);
  try {
    return await Promise.all(
      accounts.map((account, i) => login(connections[i] as RawConnection, ctx, account)),
    );
  } finally {
    closeAll(connections);
  }
}

/** The median of `samples` as a part, with every sample kept for the JSON. */
function coldPart(key: string, title: string, samples: number[]): MeasurementPart {
  return { key, title, unit: 'ms', value: median(samples), lowerIsBetter: true, samples };
}

/**
 * Cold: half the policy's unused users log in one after another, the other half all at once.
 * Warm: the admin logs in once (untimed), then asks again and again for the configured
 * duration at 1, 8 and the configured number of connections.
 */
export const tokenIssue: Scenario = {
  key: 'token',
  title: () => 'token GET req/s (warm)',
  unit: 'req/s',
  target: undefined,
  lowerIsBetter: false,
  repositories: [],
  needsAuth: true,
  async run(ctx) {
    const auth = ctx.auth;
    if (!auth) throw new BenchError('the token scenario needs --auth token');
    const half = auth.coldUsers.length >> 1;
    const sequential: number[] = [];
    for (const account of auth.coldUsers.slice(0, half)) sequential.push(...(await loginAll(ctx, [account])));
    ctx.log(`  first logins one at a time: ${sequential.map((ms) => ms.toFixed(0)).join(', ')} ms`);
    const burst = await loginAll(ctx, auth.coldUsers.slice(half));
    ctx.log(`  first logins all at once: ${burst.map((ms) => ms.toFixed(0)).join(', ')} ms`);

    // The runner logs the admin in before other scenarios, but not when this one runs alone.
    await loginAll(ctx, [auth.admin]);
    const head = Buffer.from(tokenRequestHead(ctx.host, auth.admin, REPO, ACTIONS), 'latin1');
    const request = { head, headOnly: false, expectedStatus: 200, what: 'GET /auth/token (warm)' };
    const concurrencies = [...new Set([...WARM_CONCURRENCIES, ctx.concurrency])].sort((a, b) => a - b);
    const parts: MeasurementPart[] = [];
    let headline: MeasurementPart | undefined;
    for (const concurrency of concurrencies) {
      const result = await runClosedLoop(ctx.port, request, concurrency, ctx.warmupMs, ctx.durationMs);
      const part: MeasurementPart = {
        key: `warm-c${concurrency}`,
        title: `warm, ${concurrency} connection${concurrency === 1 ? '' : 's'}`,
        unit: 'req/s',
        value: result.operations / (result.elapsedMs / 1000),
        lowerIsBetter: false,
        latency: result.latency,
      };
      if (concurrency === ctx.concurrency) headline = part;
      else parts.push(part);
    }
    parts.push(
      coldPart('cold', 'first login (bcrypt), one at a time', sequential),
      coldPart('cold-burst', `first logins, ${burst.length} at once`, burst),
    );
    const top = headline as MeasurementPart;
    return { value: top.value, ...(top.latency ? { latency: top.latency } : {}), parts };
  },
};
