/**
 * Assembling auth from `auth.*` configuration: the authorizer of the chosen mode, the built-in
 * token server when Berth issues tokens, and the keys they use. Problems with the named
 * files stop start-up with a ConfigError naming the key.
 */
import { readFile } from 'node:fs/promises';
import { isUnavailable, type StorageDriver } from '../blobstore/driver.js';
import { SIGNING_KEY_PATH } from '../blobstore/layout.js';
import { ConfigError, withConfigKey } from '../config/load.js';
import type { BerthConfig } from '../config/schema.js';
import type { Logger } from '../log/logger.js';
import { type Authorizer, type ObserveAuth, OPEN_AUTHORIZER } from './authorizer.js';
import { basicAuthorizer } from './basic-mode.js';
import {
  loadOrCreateSigningKey,
  loadOrCreateStoredSigningKey,
  publicKeysFromJwks,
  readPublicKeys,
  type SigningKey,
  type VerifyKey,
} from './keys.js';
import { createLogin } from './login.js';
import { createLoginLimiter } from './login-limiter.js';
import { openPolicySource, type PolicySource } from './policy-source.js';
import { tokenAuthorizer } from './token-mode.js';
import { createTokenService, type TokenService } from './token-service.js';
import type { TokenVerifier } from './tokens.js';

/** Auth as the HTTP layer uses it. */
export interface Auth {
  authorizer: Authorizer;
  /** The built-in token server, when this Berth issues tokens. */
  tokenService: TokenService | undefined;
  /** Re-reads the policy and htpasswd files (SIGHUP). */
  reload(): Promise<void>;
  close(): void;
}

type AuthConfig = BerthConfig['auth'];

/**
 * Builds auth for `config`; `store` is the storage the built-in token server keeps its key in
 * unless `auth.token.signingkey` names a file, `observe` receives login and token events for
 * metrics.
 */
export async function createAuth(
  config: AuthConfig,
  store: StorageDriver,
  logger: Logger,
  observe: ObserveAuth = () => {},
): Promise<Auth> {
  if (config.mode === 'none') {
    return { authorizer: OPEN_AUTHORIZER, tokenService: undefined, reload: async () => {}, close: () => {} };
  }
  const source = await openSource(config, logger);
  const login = createLogin(createLoginLimiter(config.loginlimit), observe);
  const lifecycle = { reload: () => source?.reload() ?? Promise.resolve(), close: () => source?.close() };
  if (config.mode === 'basic') {
    return {
      authorizer: basicAuthorizer({ source: required(source), login, observe, realm: config.basic.realm }),
      tokenService: undefined,
      ...lifecycle,
    };
  }

  const realm = (origin: string) => config.token.realm || `${origin}/auth/token`;
  const parties = {
    issuer: config.token.issuer,
    service: config.token.service,
    algorithm: config.token.algorithm,
  };
  if (config.token.rootcertbundle !== '' || config.token.jwks !== '') {
    const issuer = await externalKeys(config, logger);
    const verifier: TokenVerifier = { ...parties, keys: (kid) => byKid(issuer.current(), kid, true) };
    return {
      authorizer: tokenAuthorizer({ verifier, realm, source, observe }),
      tokenService: undefined,
      reload: async () => {
        await lifecycle.reload();
        await issuer.refresh();
      },
      close: () => {
        lifecycle.close();
        issuer.close();
      },
    };
  }

  const key = await signingKey(config, store);
  const older = await withConfigKey('auth.token.verifykeys', async () =>
    (await Promise.all(config.token.verifykeys.map(readPublicKeys))).flat(),
  );
  const keys = [{ kid: key.kid, publicKey: key.publicKey }, ...older];
  const verifier: TokenVerifier = { ...parties, keys: (kid) => byKid(keys, kid, false) };
  logger.info('token server ready', {
    kid: key.kid,
    algorithm: key.algorithm,
    keyfile: config.token.signingkey || `store:${SIGNING_KEY_PATH}`,
  });
  const tokenService = createTokenService({
    source: required(source),
    login,
    observe,
    key,
    verifier,
    lifetime: Math.floor(config.token.expiration / 1000),
    refreshLifetime: Math.floor(config.token.refreshexpiration / 1000),
  });
  return { authorizer: tokenAuthorizer({ verifier, realm, source, observe }), tokenService, ...lifecycle };
}

/**
 * The built-in token server's key: the configured file, else the one in the store that every
 * replica shares (on the filesystem driver that is the file ROOT/_auth/token-signing-key.pem,
 * where earlier versions kept it, so an existing key stays in use). A store that cannot be
 * reached is not a configuration problem: that error is passed on as it is.
 */
async function signingKey(config: AuthConfig, store: StorageDriver): Promise<SigningKey> {
  const { signingkey, algorithm } = config.token;
  if (signingkey !== '')
    return withConfigKey('auth.token.signingkey', () => loadOrCreateSigningKey(signingkey, algorithm));
  try {
    return await loadOrCreateStoredSigningKey(store, SIGNING_KEY_PATH, algorithm);
  } catch (err) {
    if (isUnavailable(err)) throw err;
    throw new ConfigError(
      `auth.token.signingkey (unset: the key kept in storage): ${(err as Error).message}`,
    );
  }
}

async function openSource(config: AuthConfig, logger: Logger): Promise<PolicySource | undefined> {
  if (config.policy === '' && config.htpasswd.path === '') return undefined;
  return withConfigKey(config.policy ? 'auth.policy' : 'auth.htpasswd.path', () =>
    openPolicySource(
      { policy: config.policy || undefined, htpasswd: config.htpasswd.path || undefined },
      logger,
    ),
  );
}

function required(source: PolicySource | undefined): PolicySource {
  // crossCheck in the config schema guarantees a file for these modes.
  if (!source) throw new ConfigError('auth needs auth.policy or auth.htpasswd.path');
  return source;
}

/**
 * Keys whose id is `kid`. Tokens of our own server always name their key, so an unknown id is
 * refused; another issuer's ids may follow another scheme (distribution's libtrust ids), so
 * for those every trusted key is tried.
 */
function byKid(keys: VerifyKey[], kid: string | undefined, lenient: boolean): VerifyKey[] {
  const matching = keys.filter((key) => key.kid === kid);
  return matching.length > 0 || !lenient ? matching : keys;
}

/** How often a JWKS fetched by URL is fetched again, so the issuer can rotate its keys. */
const JWKS_REFRESH_MS = 10 * 60_000;

/**
 * The keys of an external issuer: read at start (a failure stops start-up), re-read on reload
 * (SIGHUP) and, for a JWKS URL, every ten minutes. A failed re-read keeps the keys in force.
 */
async function externalKeys(config: AuthConfig, logger: Logger) {
  const read = async () => [...(await bundleKeys(config)), ...(await jwksKeys(config))];
  let keys = await read();
  const refresh = async () => {
    try {
      keys = await read();
    } catch (err) {
      logger.error('token verification keys not refreshed; the previous ones stay in force', {
        error: (err as Error).message,
      });
    }
  };
  const timer = /^https?:\/\//.test(config.token.jwks) ? setInterval(refresh, JWKS_REFRESH_MS) : undefined;
  timer?.unref();
  return { current: () => keys, refresh, close: () => clearInterval(timer) };
}

async function bundleKeys(config: AuthConfig): Promise<VerifyKey[]> {
  if (config.token.rootcertbundle === '') return [];
  return withConfigKey('auth.token.rootcertbundle', () => readPublicKeys(config.token.rootcertbundle));
}

async function jwksKeys(config: AuthConfig): Promise<VerifyKey[]> {
  const location = config.token.jwks;
  if (location === '') return [];
  return withConfigKey('auth.token.jwks', async () => {
    const text = /^https?:\/\//.test(location)
      ? await fetch(location, { signal: AbortSignal.timeout(10_000) }).then((res) => {
          if (!res.ok) throw new Error(`${location} answered ${res.status}`);
          return res.text();
        })
      : await readFile(location, 'utf8');
    return publicKeysFromJwks(JSON.parse(text), location);
  });
}
