/**
 * Password and robot-secret hashing. Passwords are bcrypt hashes (verified on libuv's thread
 * pool, so a login never blocks other requests); robot secrets are 256 random bits, so a
 * SHA-256 of them is as strong as bcrypt and cheap to check on every request.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcrypt';

/** bcrypt cost of new password hashes (about 250 ms on one core of a 2026 server). */
export const BCRYPT_COST = 12;

/**
 * A hash of a password nobody knows, compared against when a user does not exist so that the
 * answer takes as long as for a real user and does not reveal which names exist. Made on
 * first use: hashing at import would slow every CLI start.
 */
let unknownUserHash: Promise<string> | undefined;

/** A new bcrypt hash of `password`. */
export function hashPassword(password: string, cost = BCRYPT_COST): Promise<string> {
  return bcrypt.hash(password, cost);
}

/** Whether `password` matches `hash`; takes a bcrypt's time even when there is no hash. */
export async function verifyPassword(password: string, hash: string | undefined): Promise<boolean> {
  if (hash === undefined || !isBcryptHash(hash)) {
    unknownUserHash ??= bcrypt.hash(randomBytes(16).toString('hex'), BCRYPT_COST);
    await bcrypt.compare(password, await unknownUserHash);
    return false;
  }
  // htpasswd -B writes $2y$, which is the same algorithm as $2b$ but unknown to node's bcrypt.
  return bcrypt.compare(password, hash.replace(/^\$2y\$/, '$2b$'));
}

/** Whether `hash` looks like a bcrypt hash ($2a$, $2b$ or $2y$, as htpasswd -B writes). */
export function isBcryptHash(hash: string): boolean {
  return /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(hash);
}

/** A new robot secret: 32 random bytes, base64url (43 characters). */
export function newRobotSecret(): string {
  return randomBytes(32).toString('base64url');
}

/** The stored form of a robot secret: `sha256:<hex>`. */
export function hashRobotSecret(secret: string): string {
  return `sha256:${createHash('sha256').update(secret).digest('hex')}`;
}

/** Whether `secret` matches the stored `sha256:<hex>`, in constant time. */
export function verifyRobotSecret(secret: string, stored: string): boolean {
  const expected = Buffer.from(stored);
  const actual = Buffer.from(hashRobotSecret(secret));
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

/** Whether `stored` is a well-formed robot secret hash. */
export function isRobotSecretHash(stored: string): boolean {
  return /^sha256:[0-9a-f]{64}$/.test(stored);
}
