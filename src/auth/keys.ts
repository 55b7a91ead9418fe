/**
 * Token keys: the built-in server's signing key (made at first start when none exists, in the
 * store that replicas share or in a configured file kept with 0600 permissions), the keys that verify tokens (the signing key, older keys kept during
 * a rotation, or an external issuer's certificates, public keys or JWKS), and key ids (`kid`,
 * the RFC 7638 thumbprint) so that a token names the key that signed it.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type JsonWebKey,
  type KeyObject,
  randomBytes,
  X509Certificate,
} from 'node:crypto';
import { link, mkdir, open, readFile, unlink } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isPreconditionFailed, orMissing, type StorageDriver } from '../blobstore/driver.js';

/** Signing algorithms Berth issues and accepts. */
export type TokenAlgorithm = 'RS256' | 'ES256';

/** A key that signs tokens. */
export interface SigningKey {
  kid: string;
  algorithm: TokenAlgorithm;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

/** A verification key with its id. */
export interface VerifyKey {
  kid: string;
  publicKey: KeyObject;
}

/** The RFC 7638 JWK thumbprint of a public key, base64url: stable across restarts and hosts. */
export function keyId(publicKey: KeyObject): string {
  const jwk = publicKey.export({ format: 'jwk' });
  const members =
    jwk.kty === 'RSA'
      ? { e: jwk.e, kty: jwk.kty, n: jwk.n }
      : { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y };
  return createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

/** Whether `key` can sign or verify with `algorithm` (RSA of at least 2048 bits, or P-256). */
export function keyFits(key: KeyObject, algorithm: TokenAlgorithm): boolean {
  if (algorithm === 'RS256')
    return key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048;
  return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
}

/**
 * Reads the signing key at `file`, or generates one there (0600, directory 0700) when the file
 * does not exist. Two replicas starting together on shared storage agree on one key: the
 * file is created exclusively and the loser reads the winner's.
 */
export async function loadOrCreateSigningKey(file: string, algorithm: TokenAlgorithm): Promise<SigningKey> {
  let pem = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw new Error(`cannot read the token signing key ${file}: ${err.message}`);
  });
  if (pem === undefined) pem = await createKeyFile(file, algorithm);
  return signingKeyFromPem(pem, file, algorithm);
}

/**
 * Reads the signing key stored at `path` in the store, or generates one there. Replicas
 * starting together on one store agree on one key: it is created with `ifNoneMatch: '*'` and
 * everyone uses what the store holds after, so a loser reads the winner's. On a store that
 * ignores conditions the last of racing writes wins and a loser may keep its own key until
 * restarted: start one replica first there, or configure a key file.
 */
export async function loadOrCreateStoredSigningKey(
  store: StorageDriver,
  path: string,
  algorithm: TokenAlgorithm,
): Promise<SigningKey> {
  const stored = await orMissing(store.getContent(path), undefined);
  const pem = stored ? stored.toString('utf8') : await createStoredKey(store, path, algorithm);
  return signingKeyFromPem(pem, `the store's ${path}`, algorithm);
}

async function createStoredKey(
  store: StorageDriver,
  path: string,
  algorithm: TokenAlgorithm,
): Promise<string> {
  try {
    await store.putContent(path, Buffer.from(generatePem(algorithm)), { ifNoneMatch: '*' });
  } catch (err) {
    if (!isPreconditionFailed(err)) throw err;
  }
  return (await store.getContent(path)).toString('utf8');
}

function signingKeyFromPem(pem: string, source: string, algorithm: TokenAlgorithm): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (err) {
    throw new Error(`${source}: not a PEM private key: ${(err as Error).message}`);
  }
  if (!keyFits(privateKey, algorithm))
    throw new Error(
      `${source}: the key does not fit ${algorithm} (RS256 needs RSA >= 2048 bits, ES256 a P-256 key)`,
    );
  const publicKey = createPublicKey(privateKey);
  return { kid: keyId(publicKey), algorithm, privateKey, publicKey };
}

function generatePem(algorithm: TokenAlgorithm): string {
  const { privateKey } =
    algorithm === 'RS256'
      ? generateKeyPairSync('rsa', { modulusLength: 3072 })
      : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
}

async function createKeyFile(file: string, algorithm: TokenAlgorithm): Promise<string> {
  const pem = generatePem(algorithm);
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  const temp = `${file}.tmp-${randomBytes(6).toString('hex')}`;
  const handle = await open(temp, 'w', 0o600);
  try {
    await handle.writeFile(pem);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    // link() would fail if another process made the key first; rename() would replace it.
    await link(temp, file);
    return pem;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    return readFile(file, 'utf8');
  } finally {
    await unlink(temp).catch(() => {});
  }
}

/**
 * Public keys from PEM text: certificates, public keys or private keys, any number of blocks
 * (a root certificate bundle as distribution's `auth.token.rootcertbundle` holds).
 */
export function publicKeysFromPem(text: string, source: string): VerifyKey[] {
  const blocks = text.match(/-----BEGIN ([A-Z ]+)-----[\s\S]+?-----END \1-----/g) ?? [];
  if (blocks.length === 0) throw new Error(`${source}: no PEM certificate or key found`);
  return blocks.map((block) => {
    try {
      const publicKey = block.includes('CERTIFICATE')
        ? new X509Certificate(block).publicKey
        : createPublicKey(block.includes('PRIVATE KEY') ? createPrivateKey(block) : block);
      return { kid: keyId(publicKey), publicKey };
    } catch (err) {
      throw new Error(`${source}: unreadable PEM block: ${(err as Error).message}`);
    }
  });
}

/** Public keys of a JWKS document (`{"keys":[...]}`); keys without a usable `kty` are skipped. */
export function publicKeysFromJwks(document: unknown, source: string): VerifyKey[] {
  const keys = (document as { keys?: unknown })?.keys;
  if (!Array.isArray(keys)) throw new Error(`${source}: expected a JWKS document with a "keys" list`);
  const result: VerifyKey[] = [];
  for (const jwk of keys as Array<JsonWebKey & { kid?: string; use?: string }>) {
    if ((jwk.kty !== 'RSA' && jwk.kty !== 'EC') || (jwk.use !== undefined && jwk.use !== 'sig')) continue;
    try {
      const publicKey = createPublicKey({ key: jwk, format: 'jwk' });
      result.push({ kid: jwk.kid ?? keyId(publicKey), publicKey });
    } catch {
      // A malformed entry must not make the issuer's other keys unusable.
    }
  }
  if (result.length === 0) throw new Error(`${source}: no usable RSA or EC signing key`);
  return result;
}

/** Reads a PEM file of verification keys. */
export async function readPublicKeys(file: string): Promise<VerifyKey[]> {
  const text = await readFile(file, 'utf8').catch((err: Error) => {
    throw new Error(`cannot read ${file}: ${err.message}`);
  });
  return publicKeysFromPem(text, file);
}
