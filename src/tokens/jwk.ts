import { createHash, createPublicKey, type KeyObject } from 'node:crypto';

/** The asymmetric JWS algorithms access tokens may use: Ed25519 and P-256 keys. */
export type AsymmetricAlgorithm = 'EdDSA' | 'ES256';

/** The public members of an Ed25519 (OKP) or P-256 (EC) key. */
export type PublicJwk = { kty: 'OKP'; crv: 'Ed25519'; x: string } | { kty: 'EC'; crv: 'P-256'; x: string; y: string };

/** One entry of `GET /.well-known/jwks.json`. */
export type JwksKey = PublicJwk & { kid: string; alg: AsymmetricAlgorithm; use: 'sig' };

export interface JsonWebKeySet {
  keys: JwksKey[];
}

/** The algorithm a key signs with: EdDSA for Ed25519, ES256 for P-256, undefined for any other key. */
export function algorithmOfKey(key: KeyObject): AsymmetricAlgorithm | undefined {
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') return 'ES256';
  return undefined;
}

/** The public JWK of an Ed25519 or P-256 key, private or public; a private key's `d` never appears. */
export function publicJwk(key: KeyObject): PublicJwk {
  const jwk = (key.type === 'public' ? key : createPublicKey(key)).export({ format: 'jwk' });
  if (jwk.kty === 'OKP' && jwk.crv === 'Ed25519' && jwk.x) return { kty: 'OKP', crv: 'Ed25519', x: jwk.x };
  if (jwk.kty === 'EC' && jwk.crv === 'P-256' && jwk.x && jwk.y) return { kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y };
  throw new Error('only Ed25519 and P-256 keys have a JWK here');
}

/**
 * The RFC 7638 thumbprint (SHA-256, base64url) of a public JWK: the hash of its required
 * members in lexicographic order, no whitespace. It depends on the key alone, so every
 * instance and every restart derives the same `kid`.
 */
export function jwkThumbprint(jwk: PublicJwk): string {
  // Written in lexicographic order (crv, kty, x, y); the values are base64url or names, which
  // JSON.stringify copies as they are.
  const required = jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x };
  return createHash('sha256').update(JSON.stringify(required)).digest('base64url');
}

/** The JWKS entry of a key: its public members, `kid` (its thumbprint), `alg` and `use: "sig"`. */
export function jwksKey(key: KeyObject): JwksKey {
  const alg = algorithmOfKey(key);
  if (!alg) throw new Error('only Ed25519 and P-256 keys have a JWK here');
  const jwk = publicJwk(key);
  return { ...jwk, kid: jwkThumbprint(jwk), alg, use: 'sig' };
}
