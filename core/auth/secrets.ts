/**
 * Token secrets: 256 random bits behind a recognizable prefix, stored only as their SHA-256
 * (the secret's entropy makes a slow hash unnecessary), and read from the two header forms the
 * retired product accepted: `Bearer <token>` and HTTP Basic with user `token`.
 */
import { createHash, randomBytes } from 'node:crypto';

export const TOKEN_PREFIX = 'mlsv_';

export function newTokenSecret(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

export function hashTokenSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** A public identifier for a token: the start of its hash (never enough to find the secret). */
export function tokenIdOf(hash: string): string {
  return hash.slice(0, 16);
}

export type CredentialResult =
  | { readonly ok: true; readonly secret: string }
  | { readonly ok: false; readonly reason: string };

const SECRET_SHAPE = /^mlsv_[A-Za-z0-9_-]{43}$/;

/** Reads the token from an Authorization header value. */
export function tokenFromAuthorization(header: string | undefined): CredentialResult {
  if (header === undefined || header.trim() === '') return { ok: false, reason: 'missing Authorization header' };
  const match = /^(\S+)\s+(\S+)\s*$/.exec(header.trim());
  if (!match) return { ok: false, reason: 'malformed Authorization header' };
  const scheme = (match[1] as string).toLowerCase();
  let secret: string;
  if (scheme === 'bearer') {
    secret = match[2] as string;
  } else if (scheme === 'basic') {
    const encoded = match[2] as string;
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || encoded.length % 4 !== 0) {
      return { ok: false, reason: 'malformed Basic credentials' };
    }
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0 || decoded.slice(0, colon) !== 'token') {
      return { ok: false, reason: "Basic credentials must be user 'token' with the token as password" };
    }
    secret = decoded.slice(colon + 1);
  } else {
    return { ok: false, reason: `unsupported Authorization scheme '${match[1]}'` };
  }
  if (!SECRET_SHAPE.test(secret)) return { ok: false, reason: 'not an mlserve token' };
  return { ok: true, secret };
}
