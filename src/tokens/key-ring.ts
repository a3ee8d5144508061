import { createHash } from 'node:crypto';

export interface SigningKey {
  kid: string;
  secret: Buffer;
}

export interface KeyRing {
  /** Signs every new token. */
  current: SigningKey;
  /** Every key that still verifies, by `kid`. */
  byKid: ReadonlyMap<string, SigningKey>;
}

/**
 * Builds a key ring from secrets, newest first. The `kid` is derived from the secret
 * (a truncated SHA-256), so it is stable across restarts and instances without any
 * extra configuration, and reveals nothing about a 256-bit key.
 */
export function createKeyRing(secrets: readonly string[]): KeyRing {
  const keys = secrets.map((secret) => ({
    kid: createHash('sha256').update(secret).digest('base64url').slice(0, 16),
    secret: Buffer.from(secret, 'utf8'),
  }));
  const [current] = keys;
  if (!current) throw new Error('a key ring needs at least one key');
  return { current, byKid: new Map(keys.map((key) => [key.kid, key])) };
}
