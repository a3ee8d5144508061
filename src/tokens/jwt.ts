import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { createVerifier } from 'fast-jwt';
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
   * Verified tokens remembered, by the exact token string, so a client reusing its token
   * skips the signature check. Times are still checked on every call.
   */
  cacheSize?: number;
}

/** Registered claims we always set and always require. */
const REGISTERED = ['iss', 'aud', 'sub', 'iat', 'exp', 'jti'] as const;
/** An HMAC-SHA256 signature in unpadded base64url. */
const SIGNATURE_LENGTH = 43;
/** RFC 7515 segments are base64url without padding; nothing else may be stripped or skipped. */
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const DOT = 0x2e;
/**
 * The last of 43 characters carries 4 bits of the MAC and 2 unused ones; a decoder ignores
 * those, so 4 strings would carry one signature. Only the one with the unused bits at 0 is
 * accepted, so a token has exactly one spelling.
 */
const CANONICAL_LAST = new Set('AEIMQUYcgkosw048');

/** The signature segment is 43 characters whose last one is canonical; what else it holds is checked later. */
function canonicalSignature(token: string): boolean {
  return token.length - token.lastIndexOf('.') - 1 === SIGNATURE_LENGTH && CANONICAL_LAST.has(token[token.length - 1]!);
}

export interface JwtCodec<Claims> {
  sign(claims: Claims): string;
  /** Returns the claims of a valid token or throws AuthError `token_invalid` / `token_expired`. */
  verify(token: string): Claims;
}

type Payload = Record<string, unknown>;

/**
 * One token kind (access or refresh), HS256. We sign with one fixed header per key,
 * `{"alg":"HS256","typ":…,"kid":…}`, so verifying a token we issued starts with one string
 * compare of its header segment: that pins `alg`, `typ` and `kid` at once, with nothing
 * parsed. Any other header (the same fields in another order, say) goes to fast-jwt's
 * general verifier, which checks `alg`, `typ`, `crit`, `iss` and `aud` from scratch; the
 * fast path only ever accepts what fast-jwt would, and is stricter where fast-jwt is lax
 * (`iss` or `aud` as an array). Times are checked here against the injected clock, `exp`
 * mandatory and `iat`/`nbf` in the future refused.
 */
export function createJwtCodec<Claims extends object>(kind: JwtKind, clock: Clock): JwtCodec<Claims> {
  const ring = createKeyRing(kind.secrets);
  const required = [...REGISTERED, ...kind.claims];
  const keys = [...ring.byKid.values()].map((key) => ({
    kid: key.kid,
    header: base64url(JSON.stringify({ alg: 'HS256', typ: kind.typ, kid: key.kid })),
    hmacKey: createSecretKey(key.secret),
    general: createVerifier({
      key: key.secret,
      algorithms: ['HS256'],
      checkTyp: kind.typ,
      allowedIss: kind.issuer,
      allowedAud: kind.audience,
      requiredClaims: required,
      // exp, nbf and iat are checked below against the injected clock.
      ignoreExpiration: true,
      ignoreNotBefore: true,
      complete: true,
    }),
  }));
  const signing = keys[0]!;
  const byHeader = new Map(keys.map((key) => [key.header, key]));
  const byKid = new Map(keys.map((key) => [key.kid, key]));
  const cache = kind.cacheSize ? createTokenCache<Payload>(kind.cacheSize) : undefined;

  return {
    sign(claims) {
      const input = `${signing.header}.${base64url(JSON.stringify(claims))}`;
      return `${input}.${mac(signing.hmacKey, input).toString('base64url')}`;
    },
    verify(token) {
      let claims = cache?.get(token);
      if (!claims) {
        if (token.length > MAX_TOKEN_LENGTH || !canonicalSignature(token)) throw invalid();
        const headerEnd = token.indexOf('.');
        const header = headerEnd > 0 ? token.slice(0, headerEnd) : '';
        const key = byHeader.get(header);
        claims = key ? verifyIssued(token, headerEnd, key.hmacKey) : verifyGeneral(token, header);
        cache?.set(token, Object.freeze(claims));
      }
      checkTimes(claims, Math.floor(clock.now() / 1000));
      return claims as Claims;
    },
  };

  /**
   * A token carrying exactly the header we issue under a key: decided here, and every
   * refusal is final (fast-jwt, with the same key, would compute the same MAC and read
   * the same claims).
   */
  function verifyIssued(token: string, headerEnd: number, hmacKey: KeyObject): Payload {
    const payloadEnd = token.length - SIGNATURE_LENGTH - 1;
    if (payloadEnd <= headerEnd || token.charCodeAt(payloadEnd) !== DOT) throw invalid();
    const payload = token.slice(headerEnd + 1, payloadEnd);
    const signature = token.slice(payloadEnd + 1);
    if (!BASE64URL.test(payload) || !BASE64URL.test(signature)) throw invalid();
    const expected = mac(hmacKey, token.slice(0, payloadEnd));
    const given = Buffer.from(signature, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
    let claims: unknown;
    try {
      claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      throw invalid();
    }
    if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) throw invalid();
    const object = claims as Payload;
    if (object.iss !== kind.issuer || object.aud !== kind.audience) throw invalid();
    if (!required.every((claim) => Object.hasOwn(object, claim))) throw invalid();
    return object;
  }

  function verifyGeneral(token: string, header: string): Payload {
    const key = byKid.get(readKid(header) as string);
    if (!key) throw invalid();
    let decoded: { header: Payload; payload: Payload };
    try {
      decoded = key.general(token) as unknown as typeof decoded;
    } catch {
      throw invalid();
    }
    if (decoded.header.kid !== key.kid) throw invalid();
    return decoded.payload;
  }
}

/**
 * Two generations of `size / 2`: a key read from the older one is carried into the younger,
 * and when the younger fills, the older is dropped whole, so every operation is O(1). (A
 * Map evicting its oldest key one at a time is not: V8 walks the deleted slots at the head
 * of its table on every eviction, which doubled the cost of a cache miss.)
 */
function generations<V>(size: number) {
  const half = Math.max(1, Math.floor(size / 2));
  let young = new Map<string, V>();
  let old = new Map<string, V>();
  const set = (key: string, value: V) => {
    if (young.size >= half) {
      old = young;
      young = new Map();
    }
    young.set(key, value);
  };
  return {
    get(key: string): V | undefined {
      const hit = young.get(key);
      if (hit !== undefined) return hit;
      const aged = old.get(key);
      if (aged !== undefined) set(key, aged);
      return aged;
    },
    set,
    get size() {
      return young.size + old.size;
    },
  };
}

/**
 * The part of a token that tells it apart: the end of its signature, 72 bits. Under 13
 * characters V8 copies a slice instead of pointing into the token, so the fingerprint does
 * not keep the whole token alive.
 */
const FINGERPRINT_LENGTH = 12;

/**
 * Verified tokens by their exact string, bounded at `size`. A token is stored from its
 * second verification on: the first only leaves its fingerprint (the end of its signature,
 * 12 characters). Clients reuse an access token for many requests, so this loses one
 * verification per token, while a stream of tokens each seen once (many users, or an
 * attacker's junk that happens to verify) costs no more than it would with no cache at all.
 * A fingerprint collision only admits a token early; a hit always needs the exact string.
 */
export function createTokenCache<V>(size: number) {
  const entries = generations<V>(size);
  const seen = generations<true>(size);
  return {
    get: entries.get,
    set(key: string, value: V): void {
      const fingerprint = key.slice(-FINGERPRINT_LENGTH);
      if (seen.get(fingerprint)) entries.set(key, value);
      else seen.set(fingerprint, true);
    },
    /** Tokens stored (a carried-forward key counts once per generation). */
    get size() {
      return entries.size;
    },
  };
}

function checkTimes(claims: Payload, now: number): void {
  const { exp, iat, nbf } = claims;
  if (!isTime(exp) || !isTime(iat) || (nbf !== undefined && !isTime(nbf))) throw invalid();
  if (iat > now + CLOCK_SKEW_SECONDS) throw invalid();
  if (nbf !== undefined && nbf > now + CLOCK_SKEW_SECONDS) throw invalid();
  if (exp + CLOCK_SKEW_SECONDS <= now) throw new AuthError('token_expired', 'The token has expired');
}

const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const base64url = (text: string) => Buffer.from(text, 'utf8').toString('base64url');
const mac = (key: KeyObject, input: string) => createHmac('sha256', key).update(input).digest();

/** The `kid` of a header segment, or undefined; only picks the verifier, which re-checks everything. */
function readKid(header: string): unknown {
  try {
    return (JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { kid?: unknown })?.kid;
  } catch {
    return undefined;
  }
}

const invalid = () => new AuthError('token_invalid', 'The token is invalid');
