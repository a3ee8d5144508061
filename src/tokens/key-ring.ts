import { createHash, createPrivateKey, createPublicKey } from 'node:crypto';
import { jwkThumbprint, publicJwk } from './jwk.js';

/** What @fastify/jwt takes as `secret`: an HMAC key, or a private key to sign and its public key to verify (PEM). */
export type SigningSecret = Buffer | { private: string; public: string };

export interface SigningKey {
  kid: string;
  secret: SigningSecret;
}

/**
 * The keys of an HMAC ring, newest (the signing key) first. The `kid` is derived from the
 * secret (a truncated SHA-256), so it is stable across restarts and instances without any
 * extra configuration, and reveals nothing about a 256-bit key.
 */
export function keyRing(secrets: readonly string[]): SigningKey[] {
  if (secrets.length === 0) throw new Error('a key ring needs at least one key');
  return secrets.map((secret) => ({
    kid: createHash('sha256').update(secret).digest('base64url').slice(0, 16),
    secret: Buffer.from(secret, 'utf8'),
  }));
}

/**
 * The keys of an EdDSA or ES256 ring (PEM private keys), signing key first. The `kid` is the
 * RFC 7638 thumbprint of the public key: the same on every instance and restart, and what
 * the JWKS publishes, so another service can check it.
 */
export function asymmetricKeyRing(privateKeys: readonly string[]): SigningKey[] {
  if (privateKeys.length === 0) throw new Error('a key ring needs at least one key');
  return privateKeys.map((pem) => {
    const key = createPrivateKey(pem);
    return {
      kid: jwkThumbprint(publicJwk(key)),
      secret: { private: pem, public: createPublicKey(key).export({ type: 'spki', format: 'pem' }) as string },
    };
  });
}
