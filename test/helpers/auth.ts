/** Test helpers for auth: policy files, fetching tokens, and hand-made (hostile) JWTs. */
import {
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import request from 'supertest';
import { keyId } from '../../src/auth/keys.js';
import { hashPassword } from '../../src/auth/secrets.js';

/** A bcrypt hash at the lowest cost, so tests stay fast. */
export function quickHash(password: string): Promise<string> {
  return hashPassword(password, 4);
}

/** Writes `text` as `policy.yaml` in `dir`; returns the path. */
export async function writePolicy(dir: string, text: string): Promise<string> {
  const file = join(dir, 'policy.yaml');
  await writeFile(file, text, { mode: 0o600 });
  return file;
}

/** A policy's `users:` section: each of `names` with the password `<name>-password`. */
export async function usersSection(names: readonly string[]): Promise<string> {
  const hashes = await Promise.all(names.map((name) => quickHash(`${name}-password`)));
  return `users:\n${names.map((name, i) => `  ${name}: { password: "${hashes[i]}" }\n`).join('')}`;
}

/** `Authorization: Basic ...` for a name and password. */
export function basic(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
}

/** Asks the token server at `url` for `scopes`, with credentials when given. */
export function tokenRequest(url: string, scopes: string[], credentials?: [string, string]) {
  const req = request(url)
    .get('/auth/token')
    .query(`service=berth${scopes.map((scope) => `&scope=${encodeURIComponent(scope)}`).join('')}`);
  return credentials ? req.set('Authorization', basic(...credentials)) : req;
}

/** A token for `scopes`; fails the test unless the server answers 200. */
export async function token(url: string, scopes: string[], credentials?: [string, string]): Promise<string> {
  const res = await tokenRequest(url, scopes, credentials).expect(200);
  return res.body.token as string;
}

/** The access claim of a token, without verifying it. */
export function accessOf(token: string): unknown {
  return (jwt.decode(token) as { access: unknown }).access;
}

/** The server's signing key, read from its key file. */
export async function signingKeyOf(
  file: string,
): Promise<{ privateKey: KeyObject; kid: string; publicPem: string }> {
  const privateKey = createPrivateKey(await readFile(file, 'utf8'));
  const publicKey = createPublicKey(privateKey);
  return {
    privateKey,
    kid: keyId(publicKey),
    publicPem: publicKey.export({ format: 'pem', type: 'spki' }) as string,
  };
}

/** A fresh RSA key pair. */
export function rsaKeyPair(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('rsa', { modulusLength: 2048 });
}

/** Standard claims of a Berth token, `overrides` on top. */
export function claims(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return {
    iss: 'berth',
    sub: 'alice',
    aud: 'berth',
    iat: now,
    nbf: now - 1,
    exp: now + 300,
    jti: 'test',
    access: [],
    ...overrides,
  };
}

/** An RS256 JWT over `payload` signed with `key`, naming `kid`. */
export function signRs256(payload: Record<string, unknown>, key: KeyObject, kid: string): string {
  return jwt.sign(payload, key, { algorithm: 'RS256', keyid: kid });
}

/** A JWT with an arbitrary header, HMAC-SHA256-signed with `secret` (or unsigned when absent). */
export function handMadeJwt(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  secret?: string,
): string {
  const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const body = `${encode(header)}.${encode(payload)}`;
  if (secret === undefined) return `${body}.`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

/** The parameters of a `WWW-Authenticate` challenge. */
export function challengeParams(header: unknown): Record<string, string> {
  return Object.fromEntries([...String(header).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
}
