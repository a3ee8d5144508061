import type { Clock } from '../config/clock.js';
import { AuthError } from '../errors.js';
import { checkTimes, hasContractShape, tokenInvalid, type AccessClaims } from '../tokens/claims.js';
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
    if (token.length > MAX_TOKEN_LENGTH || !canonicalSignature(token)) throw tokenInvalid();
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
    checkTimes(claims, Math.floor(clock.now() / 1000));
    // fast-jwt's cache hands back the same object for the same token: frozen once checked.
    if (!Object.isFrozen(claims)) {
      if (!hasContractShape(claims, true)) throw tokenInvalid();
      Object.freeze(claims);
      if (knownHeaders.size < MAX_KNOWN_HEADERS) knownHeaders.set(header, kid);
    }
    return claims as unknown as AccessClaims;
  };
}

/** Ed25519 and P-256 (raw r‖s) signatures are 64 bytes: 86 base64url characters. */
const SIGNATURE_LENGTH = 86;
/**
 * The last character carries 2 bits of the signature and 4 unused ones, which a decoder
 * ignores: only the spelling with those at 0 is accepted, so a signature has one spelling.
 */
const CANONICAL_LAST = new Set('AQgw');

function canonicalSignature(token: string): boolean {
  return token.length - token.lastIndexOf('.') - 1 === SIGNATURE_LENGTH && CANONICAL_LAST.has(token[token.length - 1]!);
}

/** The `kid` of a header segment, or '' (refused); it only picks the key, which then checks everything. */
function kidOf(header: string): string {
  try {
    const kid = (JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { kid?: unknown })?.kid;
    return typeof kid === 'string' ? kid : '';
  } catch {
    return '';
  }
}
