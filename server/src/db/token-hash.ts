/**
 * Join and resume tokens are stored only as SHA-256 hashes: a leaked database does not
 * let anyone join or impersonate a participant. The repositories take and return hashes;
 * raw tokens never reach this layer except through these helpers.
 */
import { createHash, randomBytes } from 'node:crypto';

/** Lowercase hex SHA-256 of the token's UTF-8 bytes. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** A new random token (256 bits, base64url) and its hash. Show the token once; store the hash. */
export function createToken(prefix = ''): { token: string; hash: string } {
  const token = prefix + randomBytes(32).toString('base64url');
  return { token, hash: hashToken(token) };
}

/** Lowercase hex SHA-256 of bytes: the content address of a public set. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}
