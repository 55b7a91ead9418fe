/**
 * How the `tag` and `repo` commands talk to a running registry: over HTTP, like any client.
 * The address comes from `--registry URL`, else from the configuration (`http.addr`, as
 * `berth healthcheck` finds it). Credentials come from `--username` with `--password-stdin`,
 * else from docker's login file; with token auth, the server's challenge turns them into a
 * token (src/agent/auth-client.ts), with Basic auth they are sent as they are.
 */
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type Credentials, createAuthenticator, errorMessage, networkError } from '../agent/auth-client.js';
import { loadConfig } from '../config/load.js';
import { localBaseUrl } from './healthcheck.js';
import { CliError, type CliIo, type ParsedArgs } from './io.js';
import { readFirstLine } from './password.js';

/** The options every registry client command takes, in parseArgs form. */
export const REGISTRY_OPTIONS = {
  registry: { type: 'string' },
  config: { type: 'string', short: 'c' },
  username: { type: 'string', short: 'u' },
  'password-stdin': { type: 'boolean' },
} as const;

/** A JSON answer of the registry. */
export interface RegistryAnswer {
  status: number;
  body: unknown;
  headers: Headers;
}

/** Sends requests to one registry, answering its auth challenges. */
export interface RegistryHttp {
  /** `host:port`, for messages. */
  readonly host: string;
  /** Sends a request; a status of 400 or more becomes a CliError with the registry's message. */
  send(method: string, path: string, body?: unknown): Promise<RegistryAnswer>;
}

/** The client for the registry the parsed options point at. */
export async function registryHttp(parsed: ParsedArgs, io: CliIo): Promise<RegistryHttp> {
  const base = await baseUrl(parsed, io);
  const host = new URL(base).host;
  const credentials = await credentialsFor(parsed, io, host);
  const auth = createAuthenticator({ registry: host, credentials });

  const attempt = async (method: string, path: string, body: unknown, authorization: string | undefined) => {
    const headers: Record<string, string> = { Accept: 'application/json' };
    if (authorization) headers.Authorization = authorization;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    try {
      return await fetch(`${base}${path}`, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
      });
    } catch (error) {
      throw new CliError(networkError(host, error).message);
    }
  };

  return {
    host,
    async send(method, path, body) {
      let response = await attempt(method, path, body, auth.known(undefined));
      const challenge = response.headers.get('www-authenticate');
      if (response.status === 401 && challenge) {
        await response.body?.cancel();
        const answer = await auth.answer(challenge, undefined).catch((error: Error) => {
          throw new CliError(error.message);
        });
        if (answer) response = await attempt(method, path, body, answer);
      }
      const text = await response.text();
      if (response.status >= 400) throw new CliError(refusal(host, response.status, text, credentials));
      return {
        status: response.status,
        body: text === '' ? undefined : JSON.parse(text),
        headers: response.headers,
      };
    },
  };
}

function refusal(host: string, status: number, text: string, credentials: Credentials | undefined): string {
  const message = `${host} answered ${status}: ${errorMessage(text, status)}`;
  if (status !== 401 || credentials) return message;
  return `${message}; log in with docker login ${host}, or pass --username and --password-stdin`;
}

async function baseUrl(parsed: ParsedArgs, io: CliIo): Promise<string> {
  const flag = parsed.values.registry;
  if (typeof flag === 'string' && flag !== '') {
    const url = /^https?:\/\//.test(flag) ? flag : `http://${flag}`;
    try {
      return new URL(url).origin;
    } catch {
      throw new CliError(`--registry ${flag}: expected a URL such as http://localhost:5000`);
    }
  }
  const file =
    typeof parsed.values.config === 'string' ? parsed.values.config : io.env.BERTH_CONFIG || undefined;
  const { config } = await loadConfig(file, io.env);
  return localBaseUrl(config.http.addr);
}

async function credentialsFor(parsed: ParsedArgs, io: CliIo, host: string): Promise<Credentials | undefined> {
  const username = parsed.values.username;
  if (typeof username === 'string' && username !== '') {
    if (parsed.values['password-stdin'] !== true)
      throw new CliError('--username needs --password-stdin (the password on standard input)');
    return { username, password: await readFirstLine(io.stdin) };
  }
  if (parsed.values['password-stdin'] === true) throw new CliError('--password-stdin needs --username');
  return dockerLogin(io.env, host);
}

/**
 * The login `docker login HOST` saved in docker's config file (`$DOCKER_CONFIG/config.json`,
 * else `~/.docker/config.json`), when it holds one inline; credential helpers are not asked.
 */
async function dockerLogin(env: NodeJS.ProcessEnv, host: string): Promise<Credentials | undefined> {
  const file = join(env.DOCKER_CONFIG || join(env.HOME || homedir(), '.docker'), 'config.json');
  let auths: Record<string, { auth?: unknown }> | undefined;
  try {
    auths = (JSON.parse(await readFile(file, 'utf8')) as { auths?: typeof auths }).auths;
  } catch {
    return undefined;
  }
  const entry = Object.entries(auths ?? {}).find(
    ([key]) => key.replace(/^https?:\/\//, '').replace(/\/.*$/, '') === host,
  );
  const auth = entry?.[1].auth;
  if (typeof auth !== 'string') return undefined;
  const decoded = Buffer.from(auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
