import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { algorithmOfKey, jwkThumbprint, publicJwk, type AsymmetricAlgorithm } from '../tokens/jwk.js';

/** The only algorithms versioned-auth/verify accepts: never HS256, never `none`. */
export type VerifyAlgorithm = AsymmetricAlgorithm;

/** A public key pinned to one algorithm, as fast-jwt takes it. */
export interface PublicKey {
  kid: string;
  alg: VerifyAlgorithm;
  /** SPKI PEM. */
  pem: string;
}

/** A key that is not an Ed25519 or P-256 public key, or whose declared members contradict it. */
export class KeyImportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyImportError';
  }
}

/**
 * A JWK (public members only) or an SPKI PEM as a key pinned to the algorithm its type and
 * curve allow (Ed25519 → EdDSA, P-256 → ES256). A JWK's own `alg` and `use`, when present,
 * must agree; its `kid` is kept, and a key without one (a PEM) gets its RFC 7638 thumbprint.
 * Node parses the key: nothing here is cryptography of our own.
 */
export function importPublicKey(input: JsonWebKey | string): PublicKey {
  const declared: Record<string, unknown> = typeof input === 'string' ? {} : { ...input };
  // createPublicKey would quietly derive the public half of a private key: refuse it instead.
  if (typeof input === 'string' ? /PRIVATE KEY-----/.test(input) : 'd' in declared) {
    throw new KeyImportError('a private key: give the public key only');
  }
  let key: KeyObject;
  try {
    key = typeof input === 'string' ? createPublicKey({ key: input, format: 'pem' }) : createPublicKey({ key: input, format: 'jwk' });
  } catch {
    throw new KeyImportError('not a public key (a JWK of kty OKP or EC, or an SPKI PEM)');
  }
  const alg = algorithmOfKey(key);
  if (alg === undefined) throw new KeyImportError('only Ed25519 (EdDSA) and P-256 (ES256) keys are accepted');
  const jwk = publicJwk(key);
  if (declared.alg !== undefined && declared.alg !== alg) throw new KeyImportError(`alg ${String(declared.alg)} does not fit a ${jwk.crv} key (${alg})`);
  if (declared.use !== undefined && declared.use !== 'sig') throw new KeyImportError('use must be "sig"');
  if (declared.kid !== undefined && (typeof declared.kid !== 'string' || declared.kid === '')) throw new KeyImportError('kid must be a non-empty string');
  return {
    kid: typeof declared.kid === 'string' ? declared.kid : jwkThumbprint(jwk),
    alg,
    pem: key.export({ type: 'spki', format: 'pem' }) as string,
  };
}
