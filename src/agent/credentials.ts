/**
 * Saved registry logins (`credentials.json`, mode 0600): registry host -> user name and
 * password, as `berth agent login` stores them and pulls use them. The file is replaced
 * atomically, so a pull reading it while a login writes it sees one version or the other.
 */
import { mkdir, readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../fs/atomic-write.js';
import type { Credentials, Fetch } from './auth-client.js';
import { agentLayout } from './layout.js';
import { canonicalHost, isPlainHttpByDefault } from './reference.js';
import { createRegistryClient } from './registry-client.js';

export type { Credentials } from './auth-client.js';

type CredentialsFile = Record<string, Credentials>;

/** Every saved login, by canonical host. A missing file is no logins. */
export async function readCredentials(root: string): Promise<CredentialsFile> {
  const file = agentLayout(root).credentials;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw error;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not valid JSON; fix it or remove it and log in again`);
  }
  const result: CredentialsFile = {};
  if (typeof parsed !== 'object' || parsed === null) return result;
  for (const [host, value] of Object.entries(parsed as Record<string, unknown>)) {
    const entry = value as Partial<Credentials> | null;
    if (typeof entry?.username === 'string' && typeof entry.password === 'string') {
      result[host] = { username: entry.username, password: entry.password };
    }
  }
  return result;
}

/** The saved login for a registry host (`docker.io`, `127.0.0.1:5000`), if any. */
export async function credentialsFor(root: string, host: string): Promise<Credentials | undefined> {
  return (await readCredentials(root))[canonicalHost(host)];
}

/** Saves (or replaces) the login for a host. */
export async function saveCredentials(root: string, host: string, credentials: Credentials): Promise<void> {
  const all = await readCredentials(root);
  all[canonicalHost(host)] = { username: credentials.username, password: credentials.password };
  await writeFile(root, all);
}

/** Forgets the login for a host; resolves with whether there was one. */
export async function removeCredentials(root: string, host: string): Promise<boolean> {
  const all = await readCredentials(root);
  const key = canonicalHost(host);
  if (!(key in all)) return false;
  delete all[key];
  await writeFile(root, all);
  return true;
}

/**
 * Proves credentials work before `login` saves them: GET /v2/, answering the registry's
 * challenge with them (a token for Bearer, the credentials themselves for Basic). Throws the
 * registry's refusal. `plainHttp` undefined means "as the host implies" (loopback: plain).
 */
export async function checkLogin(
  host: string,
  credentials: Credentials,
  plainHttp?: boolean,
  fetchImpl?: Fetch,
): Promise<void> {
  const registry = canonicalHost(host);
  const client = createRegistryClient({
    registry,
    plainHttp: plainHttp ?? isPlainHttpByDefault(registry),
    credentials,
    ...(fetchImpl ? { fetch: fetchImpl } : {}),
  });
  await client.ping();
}

async function writeFile(root: string, all: CredentialsFile): Promise<void> {
  await mkdir(root, { recursive: true });
  await writeFileAtomic(agentLayout(root).credentials, `${JSON.stringify(all, null, 2)}\n`, 0o600);
}
