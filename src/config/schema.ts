/**
 * Every configuration key Berth understands: its type, default and meaning. Key names follow
 * CNCF distribution's config.yml where the concept exists, so configs carry over. Each key
 * can be overridden by the environment variable BERTH_ + its path upper-cased with `_`
 * (`http.addr` -> `BERTH_HTTP_ADDR`).
 */
import { availableParallelism } from 'node:os';
import type { ImmutableTagRule } from '../registry/immutable-tags.js';
import { DEFAULT_GC_DELETE_DELAY_MS } from '../registry/tombstones.js';
import type { RetentionRule } from '../retention/rules.js';
import {
  address,
  boolean,
  count,
  httpUrlOrEmpty,
  nonEmptyString,
  oneOf,
  optionalString,
  positiveCount,
  stringList,
  urlPath,
} from './parsers.js';
import { parseRetentionRules } from './retention-rules.js';
import { checkStorage, STORAGE_KEYS } from './storage-keys.js';
import { parseImmutableRules } from './tag-rules.js';
import { parseDuration, parseHeaders, parseSize } from './values.js';

/** The validated configuration. Durations are milliseconds, sizes are bytes. */
export interface BerthConfig {
  log: {
    level: 'debug' | 'info' | 'warn' | 'error';
    formatter: 'json' | 'text';
    accesslog: { disabled: boolean };
  };
  http: {
    addr: string;
    draintimeout: number;
    headers: Record<string, string[]>;
    /** Trust X-Forwarded-For/-Proto/-Host from a reverse proxy in front. */
    trustproxy: boolean;
    /** How long a request body may go without a byte arriving; 0 for no limit. */
    bodytimeout: number;
    /** How long a client may take to send a request's headers; 0 for no limit. */
    headertimeout: number;
    /** Requests sending a body at once from one client address; 0 for no limit. */
    maxuploadsperclient: number;
    /** Processes serving the port (node cluster workers); `auto` is resolved to the CPU count. */
    workers: number;
  };
  storage: {
    driver: 'filesystem' | 's3';
    filesystem: { rootdirectory: string };
    s3: {
      bucket: string;
      region: string;
      /** Endpoint URL of an S3-compatible store, or '' for AWS. */
      regionendpoint: string;
      forcepathstyle: boolean;
      /** Key prefix, without leading or trailing slashes; '' for the bucket's root. */
      rootdirectory: string;
      /** Static credentials, or both '' for the AWS credential chain. */
      accesskey: string;
      secretkey: string;
      chunksize: number;
      multipartconcurrency: number;
      redirect: boolean;
      redirectexpiry: number;
    };
    delete: { enabled: boolean };
    /** The metadata cache: ttl in ms for repository facts, maxmemory in bytes for all entries. */
    cache: { blobdescriptor: 'inmemory' | 'none'; ttl: number; maxmemory: number };
    maintenance: {
      uploadpurging: { enabled: boolean; age: number; interval: number; dryrun: boolean };
    };
  };
  validation: { manifests: { maxsize: number; maxdescriptors: number } };
  /** Garbage collection (docs/gc.md); durations in ms, interval 0 for no scheduled runs. */
  gc: { interval: number; graceperiod: number; deletedelay: number };
  /** Tags that may be written once and never moved or deleted. */
  tags: { immutable: ImmutableTagRule[] };
  /** Retention rules (docs/retention.md); interval in ms, 0 for `berth retention` only. */
  retention: { interval: number; rules: RetentionRule[] };
  metrics: { enabled: boolean; path: string };
  auth: {
    mode: 'none' | 'basic' | 'token';
    /** Policy file path, or '' for none. */
    policy: string;
    htpasswd: { path: string };
    basic: { realm: string };
    token: {
      /** Token endpoint URL clients are sent to, or '' for this server's /auth/token. */
      realm: string;
      service: string;
      issuer: string;
      algorithm: 'RS256' | 'ES256';
      expiration: number;
      refreshexpiration: number;
      /** Built-in server's key file, or '' for <rootdirectory>/_auth/token-signing-key.pem. */
      signingkey: string;
      verifykeys: string[];
      rootcertbundle: string;
      jwks: string;
    };
    loginlimit: { failures: number; addressfailures: number; userfailures: number; window: number };
  };
}

/** One configuration key. */
export interface KeySpec {
  /** Dotted path, e.g. `storage.delete.enabled`. */
  key: string;
  /** Human description of accepted values, used in error messages and docs. */
  expects: string;
  /** Turns a YAML or environment value into the config value; throws with what is expected. */
  parse: (value: unknown) => unknown;
  default: unknown;
}

/** `http.workers` and `serve --workers`: a whole number >= 1, or `auto` for one per CPU. */
export function parseWorkers(value: unknown): number {
  if (value === 'auto') return availableParallelism();
  try {
    return positiveCount(value);
  } catch {
    throw new Error(`expected a whole number >= 1 or auto, got ${JSON.stringify(value)}`);
  }
}

/** All keys, in the order the README documents them. */
export const KEYS: readonly KeySpec[] = [
  {
    key: 'log.level',
    expects: 'debug, info, warn or error',
    parse: oneOf('debug', 'info', 'warn', 'error'),
    default: 'info',
  },
  { key: 'log.formatter', expects: 'json or text', parse: oneOf('json', 'text'), default: 'json' },
  { key: 'log.accesslog.disabled', expects: 'true or false', parse: boolean, default: false },
  { key: 'http.addr', expects: 'host:port', parse: address, default: '0.0.0.0:5000' },
  { key: 'http.draintimeout', expects: 'a duration', parse: parseDuration, default: 30_000 },
  { key: 'http.headers', expects: 'a map of header name to values', parse: parseHeaders, default: {} },
  { key: 'http.trustproxy', expects: 'true or false', parse: boolean, default: false },
  { key: 'http.bodytimeout', expects: 'a duration', parse: parseDuration, default: 60_000 },
  { key: 'http.headertimeout', expects: 'a duration', parse: parseDuration, default: 30_000 },
  { key: 'http.maxuploadsperclient', expects: 'a whole number', parse: count, default: 128 },
  { key: 'http.workers', expects: 'a whole number >= 1 or auto', parse: parseWorkers, default: 1 },
  ...STORAGE_KEYS,
  {
    key: 'validation.manifests.maxsize',
    expects: 'a size in bytes',
    parse: parseSize,
    default: 4 * 1024 * 1024,
  },
  {
    key: 'validation.manifests.maxdescriptors',
    expects: 'a whole number >= 1',
    parse: positiveCount,
    default: 10_000,
  },
  { key: 'gc.interval', expects: 'a duration (0 for none)', parse: parseDuration, default: 0 },
  { key: 'gc.graceperiod', expects: 'a duration', parse: parseDuration, default: 3_600_000 },
  {
    key: 'gc.deletedelay',
    expects: 'a duration',
    parse: parseDuration,
    default: DEFAULT_GC_DELETE_DELAY_MS,
  },
  {
    key: 'tags.immutable',
    expects: 'a list of {repository, tags} rules',
    parse: parseImmutableRules,
    default: [],
  },
  { key: 'retention.interval', expects: 'a duration (0 for none)', parse: parseDuration, default: 0 },
  {
    key: 'retention.rules',
    expects: 'a list of {repository, keep, history, untagged} rules',
    parse: parseRetentionRules,
    default: [],
  },
  { key: 'metrics.enabled', expects: 'true or false', parse: boolean, default: true },
  { key: 'metrics.path', expects: 'a URL path', parse: urlPath, default: '/metrics' },
  {
    key: 'auth.mode',
    expects: 'none, basic or token',
    parse: oneOf('none', 'basic', 'token'),
    default: 'none',
  },
  { key: 'auth.policy', expects: 'a file path', parse: optionalString, default: '' },
  { key: 'auth.htpasswd.path', expects: 'a file path', parse: optionalString, default: '' },
  { key: 'auth.basic.realm', expects: 'a string', parse: nonEmptyString, default: 'Berth Registry' },
  { key: 'auth.token.realm', expects: 'a URL', parse: httpUrlOrEmpty, default: '' },
  { key: 'auth.token.service', expects: 'a string', parse: nonEmptyString, default: 'berth' },
  { key: 'auth.token.issuer', expects: 'a string', parse: nonEmptyString, default: 'berth' },
  {
    key: 'auth.token.algorithm',
    expects: 'RS256 or ES256',
    parse: oneOf('RS256', 'ES256'),
    default: 'ES256',
  },
  { key: 'auth.token.expiration', expects: 'a duration', parse: parseDuration, default: 300_000 },
  {
    key: 'auth.token.refreshexpiration',
    expects: 'a duration',
    parse: parseDuration,
    default: 30 * 24 * 3_600_000,
  },
  { key: 'auth.token.signingkey', expects: 'a file path', parse: optionalString, default: '' },
  { key: 'auth.token.verifykeys', expects: 'a list of file paths', parse: stringList, default: [] },
  { key: 'auth.token.rootcertbundle', expects: 'a file path', parse: optionalString, default: '' },
  { key: 'auth.token.jwks', expects: 'a URL or file path', parse: optionalString, default: '' },
  { key: 'auth.loginlimit.failures', expects: 'a whole number', parse: count, default: 10 },
  { key: 'auth.loginlimit.addressfailures', expects: 'a whole number', parse: count, default: 100 },
  { key: 'auth.loginlimit.userfailures', expects: 'a whole number', parse: count, default: 100 },
  { key: 'auth.loginlimit.window', expects: 'a duration', parse: parseDuration, default: 60_000 },
];

/**
 * Rules that span keys; returns the first problem, naming the keys, or undefined. The auth
 * mode decides which files must be named.
 */
export function crossCheck(config: BerthConfig): string | undefined {
  const { auth } = config;
  const storageProblem = checkStorage(config);
  if (storageProblem) return storageProblem;
  const external = auth.token.rootcertbundle !== '' || auth.token.jwks !== '';
  const accounts = auth.policy !== '' || auth.htpasswd.path !== '';
  if (auth.mode === 'basic' && !accounts)
    return 'auth.mode basic needs auth.policy or auth.htpasswd.path (who may log in)';
  if (auth.mode === 'token' && !external && !accounts)
    return 'auth.mode token needs auth.policy or auth.htpasswd.path for the built-in token server, or auth.token.rootcertbundle / auth.token.jwks to accept tokens of another issuer';
  if (auth.mode === 'token' && external && auth.token.realm === '')
    return 'auth.token.realm must name the external token server when auth.token.rootcertbundle or auth.token.jwks is set';
  if (auth.token.expiration < 1000) return 'auth.token.expiration must be at least 1s';
  return undefined;
}

/** Valid settings that are probably not what the operator meant, each naming the keys. */
export function crossWarnings(config: BerthConfig): string[] {
  const { auth } = config;
  if (auth.mode !== 'none' || (auth.policy === '' && auth.htpasswd.path === '')) return [];
  return [
    'auth.mode is none, so nobody is asked to log in although auth.policy or auth.htpasswd.path names accounts; set auth.mode to basic or token',
  ];
}

/** The environment variable that overrides `key`. */
export function envName(key: string): string {
  return `BERTH_${key.toUpperCase().replace(/\./g, '_')}`;
}
