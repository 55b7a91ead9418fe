/**
 * Parsers for the value formats config keys use: Go-style durations (`168h`, `1m30s`),
 * byte sizes (`4MiB`, `4194304`), listen addresses (`:5000`, `127.0.0.1:5001`) and header
 * maps (`{"X-Frame-Options":["DENY"]}`).
 * Each returns the parsed value or throws an Error whose message says what is expected.
 */

const DURATION_UNITS: Readonly<Record<string, number>> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

/** Milliseconds in a duration such as `30s`, `168h`, `1h30m`, `90d`, or a number of seconds. */
export function parseDuration(value: unknown): number {
  if (typeof value === 'number' && Number.isFinite(value) && value >= 0) return value * 1000;
  if (typeof value !== 'string' || value.trim() === '')
    throw new Error('expected a duration such as 30s, 10m or 168h');
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const part = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h|d)/gy;
  let total = 0;
  let consumed = 0;
  for (let match = part.exec(text); match; match = part.exec(text)) {
    total += Number(match[1]) * (DURATION_UNITS[match[2] as string] as number);
    consumed = part.lastIndex;
  }
  if (consumed !== text.length || consumed === 0) {
    throw new Error(`expected a duration such as 30s, 10m or 168h, got ${JSON.stringify(value)}`);
  }
  return total;
}

const SIZE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1000,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1000 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1000 ** 3,
  gib: 1024 ** 3,
};

/** Bytes in a size such as `4MiB`, `512KB` or a plain number of bytes. */
export function parseSize(value: unknown): number {
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  const match = typeof value === 'string' ? /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(value) : null;
  const unit = SIZE_UNITS[(match?.[2] ?? '').toLowerCase()];
  if (!match || unit === undefined) {
    throw new Error(`expected a size in bytes such as 4194304, 512KiB or 4MiB, got ${JSON.stringify(value)}`);
  }
  return Math.round(Number(match[1]) * unit);
}

/** A listen address split into host (empty for all interfaces) and port. */
export interface ListenAddress {
  host: string;
  port: number;
}

/** Parses `host:port`, `:port` or `[v6]:port`. */
export function parseAddress(value: unknown): ListenAddress {
  const match =
    typeof value === 'string' ? /^(\[[0-9a-fA-F:.]+\]|[^:[\]\s]*):(\d+)$/.exec(value.trim()) : null;
  if (!match) {
    throw new Error(`expected host:port (such as 0.0.0.0:5000 or :5000), got ${JSON.stringify(value)}`);
  }
  const port = Number(match[2]);
  if (port > 65535) {
    throw new Error(`port ${match[2]} is out of range: ports go from 1 to 65535 (0 picks a free one)`);
  }
  return { host: (match[1] as string).replace(/^\[|\]$/g, ''), port };
}

/** An HTTP token: what a header name may be made of. */
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
/** What a header value may hold: no line breaks or other control characters but tab. */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;

/**
 * Extra response headers: a map of header name to a list of values (a single string is one
 * value). The environment gives the map as JSON.
 */
export function parseHeaders(value: unknown): Record<string, string[]> {
  const map = typeof value === 'string' ? parseHeadersJson(value) : value;
  if (typeof map !== 'object' || map === null || Array.isArray(map)) {
    throw new Error(`expected a map of header name to a list of values, got ${JSON.stringify(value)}`);
  }
  return Object.fromEntries(Object.entries(map).map(([name, values]) => [name, headerValues(name, values)]));
}

function parseHeadersJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(
      `expected JSON mapping header names to lists of values, such as {"X-Frame-Options":["DENY"]}, got ${JSON.stringify(text)}`,
    );
  }
}

function headerValues(name: string, values: unknown): string[] {
  if (!HEADER_NAME.test(name)) throw new Error(`${JSON.stringify(name)} is not a valid header name`);
  const list = typeof values === 'string' ? [values] : values;
  if (!Array.isArray(list) || !list.every((item) => typeof item === 'string')) {
    throw new Error(`${name}: expected a list of strings, got ${JSON.stringify(values)}`);
  }
  const bad = list.find((item) => !HEADER_VALUE.test(item));
  if (bad !== undefined)
    throw new Error(`${name}: ${JSON.stringify(bad)} holds a line break or control character`);
  return list;
}
