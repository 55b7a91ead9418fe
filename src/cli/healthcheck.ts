/**
 * `berth healthcheck`: asks the Berth that this configuration describes whether it is ready,
 * for a container HEALTHCHECK or an exec probe. Images without curl or a shell still have
 * node, and reading the same configuration as `berth serve` means a changed `http.addr` (in
 * the file or the environment) moves the probe with it.
 */
import { loadConfig } from '../config/load.js';
import { parseAddress } from '../config/values.js';
import type { TextOut } from './io.js';

/** How long the probe waits for an answer; well inside any sensible HEALTHCHECK --timeout. */
const PROBE_TIMEOUT_MS = 4000;

/** Resolves with 0 when GET /readyz answers 200, otherwise 1 (and says why on `err`). */
export async function healthcheck(
  configFile: string | undefined,
  out: TextOut,
  err: TextOut,
): Promise<number> {
  const { config } = await loadConfig(configFile, process.env);
  const url = `${localBaseUrl(config.http.addr)}/readyz`;
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
    if (response.status === 200) {
      out.write(`${url}: ready\n`);
      return 0;
    }
    err.write(`${url}: answered ${response.status}\n`);
  } catch (error) {
    const cause = (error as Error & { cause?: Error }).cause;
    err.write(`${url}: ${cause?.message ?? (error as Error).message}\n`);
  }
  return 1;
}

/** The URL a process on the same host reaches `addr` by: a wildcard address means loopback. */
export function localBaseUrl(addr: string): string {
  const { host, port } = parseAddress(addr);
  if (host === '' || host === '0.0.0.0') return `http://127.0.0.1:${port}`;
  if (host === '::') return `http://[::1]:${port}`;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}
