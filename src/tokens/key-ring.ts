import { createHash } from 'node:crypto';

export interface SigningKey {
  kid: string;
  secret: Buffer;
}

/**
 * The keys of a ring, newest (the signing key) first. The `kid` is derived from the secret
 * (a truncated SHA-256), so it is stable across restarts and instances without any extra
 * configuration, and reveals nothing about a 256-bit key.
 */
export function keyRing(secrets: readonly string[]): SigningKey[] {
  if (secrets.length === 0) throw new Error('a key ring needs at least one key');
  return secrets.map((secret) => ({
    kid: createHash('sha256').update(secret).digest('base64url').slice(0, 16),
    secret: Buffer.from(secret, 'utf8'),
  }));
}
