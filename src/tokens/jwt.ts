import { createSigner, createVerifier } from 'fast-jwt';
import type { Clock } from '../config/clock.js';
import { AuthError } from '../errors.js';
import { createKeyRing } from './key-ring.js';

/** Tolerated clock difference between instances and clients (the contract's maximum). */
export const CLOCK_SKEW_SECONDS = 30;
/** Anything longer is not one of our tokens; refused before any parsing. */
export const MAX_TOKEN_LENGTH = 8192;

export interface JwtKind {
  /** Header `typ`, e.g. `at+jwt`. */
  typ: string;
  issuer: string;
  audience: string;
  /** Newest first: the first signs, all verify. */
  secrets: readonly string[];
  /** Claims every token of this kind must carry, besides the registered ones. */
  claims: readonly string[];
  /**
   * Verified tokens remembered (LRU, by the exact token string), so a client reusing its
   * token skips the signature check. Times are still checked on every call.
   */
  cacheSize?: number;
}

/** Registered claims we always set and always require. */
const REGISTERED = ['iss', 'aud', 'sub', 'iat', 'exp', 'jti'] as const;

export interface JwtCodec<Claims> {
  sign(claims: Claims): string;
  /** Returns the claims of a valid token or throws AuthError `token_invalid` / `token_expired`. */
  verify(token: string): Claims;
}

/**
 * One token kind (access or refresh): HS256 pinned, `typ`, `iss` and `aud` checked, a
 * verifier per key compiled once. Time is checked here against the injected clock, with
 * `exp` mandatory and `iat`/`nbf` in the future refused, which fast-jwt leaves to us.
 */
export function createJwtCodec<Claims extends object>(kind: JwtKind, clock: Clock): JwtCodec<Claims> {
  const ring = createKeyRing(kind.secrets);
  const signer = createSigner({
    key: ring.current.secret,
    algorithm: 'HS256',
    kid: ring.current.kid,
    header: { alg: 'HS256', typ: kind.typ },
  });
  const verifiers = new Map(
    [...ring.byKid].map(([kid, key]) => [
      kid,
      createVerifier({
        key: key.secret,
        algorithms: ['HS256'],
        checkTyp: kind.typ,
        allowedIss: kind.issuer,
        allowedAud: kind.audience,
        requiredClaims: [...REGISTERED, ...kind.claims],
        // exp, nbf and iat are checked below against the injected clock.
        ignoreExpiration: true,
        ignoreNotBefore: true,
        complete: true,
      }),
    ]),
  );

  // The token itself is the key: a hit needs the exact string that verified before, so no
  // collision is possible, and hashing it would cost what the cache saves. Insertion order
  // evicts the oldest entry first.
  const verified = new Map<string, Record<string, unknown>>();
  const single = ring.byKid.size === 1 ? verifiers.get(ring.current.kid) : undefined;

  return {
    sign: (claims) => signer(claims as Record<string, unknown>),
    verify(token) {
      let claims = verified.get(token);
      if (!claims) {
        claims = verifySignature(token);
        if (kind.cacheSize) {
          if (verified.size >= kind.cacheSize) verified.delete(verified.keys().next().value!);
          verified.set(token, Object.freeze(claims));
        }
      }
      checkTimes(claims, Math.floor(clock.now() / 1000));
      return claims as Claims;
    },
  };

  function verifySignature(token: string): Record<string, unknown> {
    if (token.length > MAX_TOKEN_LENGTH) throw invalid();
    // With one key there is no choice to make: verify, then require its kid.
    const verifier = single ?? verifiers.get(readKid(token) as string);
    if (!verifier) throw invalid();
    let decoded: { header: Record<string, unknown>; payload: Record<string, unknown> };
    try {
      decoded = verifier(token) as unknown as typeof decoded;
    } catch {
      throw invalid();
    }
    if (single && decoded.header.kid !== ring.current.kid) throw invalid();
    return decoded.payload;
  }
}

function checkTimes(claims: Record<string, unknown>, now: number): void {
  const { exp, iat, nbf } = claims;
  if (!isTime(exp) || !isTime(iat) || (nbf !== undefined && !isTime(nbf))) throw invalid();
  if (iat > now + CLOCK_SKEW_SECONDS) throw invalid();
  if (nbf !== undefined && nbf > now + CLOCK_SKEW_SECONDS) throw invalid();
  if (exp + CLOCK_SKEW_SECONDS <= now) throw new AuthError('token_expired', 'The token has expired');
}

const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/** The `kid` of a compact JWS, or undefined; only picks the verifier, which re-checks everything. */
function readKid(token: string): unknown {
  const dot = token.indexOf('.');
  if (dot <= 0) return undefined;
  try {
    return (JSON.parse(Buffer.from(token.slice(0, dot), 'base64url').toString('utf8')) as { kid?: unknown })?.kid;
  } catch {
    return undefined;
  }
}

const invalid = () => new AuthError('token_invalid', 'The token is invalid');
