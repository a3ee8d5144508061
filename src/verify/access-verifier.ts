import type { Clock } from '../config/clock.js';
import { AuthError } from '../errors.js';
import { acceptClaims, tokenInvalid, type AccessClaims } from '../tokens/claims.js';
import { canonicalSignature, kidOf, signatureShape } from '../tokens/codec.js';
import { MAX_TOKEN_LENGTH } from '../tokens/index.js';
import type { KeyVerifier } from './key-store.js';

/** A well-formed token whose `kid` names no key we hold: refused as `token_invalid`, unless a JWKS refetch brings the key. */
export class UnknownKeyError extends AuthError {
  constructor(readonly kid: string) {
    super('token_invalid', 'The token is invalid');
    this.name = 'UnknownKeyError';
  }
}

/** Where the verifier finds a key by `kid`. */
export interface KeySource {
  get(kid: string): KeyVerifier | undefined;
}

/** Ed25519 and P-256 (raw r‖s) signatures alike are 64 bytes. */
const SIGNATURE = signatureShape(64);

/** Headers of tokens that verified, by their exact segment: skips a JSON parse; only verified ones get in, so it stays tiny. */
const MAX_KNOWN_HEADERS = 64;

/**
 * Verifies an access token as the main plugin does (signature, `alg` pinned per key, `typ`,
 * `iss`, `aud`, times on the injected clock with the 30 s skew, the claims' shapes); the
 * key is picked by the header's `kid`. Throws AuthError `token_invalid` / `token_expired`,
 * or UnknownKeyError.
 */
export function createAccessVerifier(keys: KeySource, clock: Clock): (token: string) => AccessClaims {
  const knownHeaders = new Map<string, string>();
  return (token) => {
    if (token.length > MAX_TOKEN_LENGTH || !canonicalSignature(token, SIGNATURE)) throw tokenInvalid();
    const header = token.slice(0, token.indexOf('.'));
    const kid = knownHeaders.get(header) ?? kidOf(header);
    if (kid === '') throw tokenInvalid();
    const verify = keys.get(kid);
    if (!verify) throw new UnknownKeyError(kid);
    let claims: Record<string, unknown>;
    try {
      claims = verify(token);
    } catch {
      throw tokenInvalid();
    }
    if (acceptClaims(claims, Math.floor(clock.now() / 1000), true) && knownHeaders.size < MAX_KNOWN_HEADERS) {
      knownHeaders.set(header, kid);
    }
    return claims as unknown as AccessClaims;
  };
}
