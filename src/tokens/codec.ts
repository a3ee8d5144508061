import type { FastifyJWTOptions, JWT } from '@fastify/jwt';
import type { Clock } from '../config/clock.js';
import { acceptClaims, tokenInvalid } from './claims.js';
import type { SigningKey } from './key-ring.js';

/** The JWS algorithms our tokens use: refresh tokens HS256, access tokens any of them. */
export type TokenAlgorithm = 'HS256' | 'EdDSA' | 'ES256';

/** Anything longer is not one of our tokens; refused before any parsing. */
export const MAX_TOKEN_LENGTH = 8192;

/** One kind of token (access or refresh): its keys, header `typ` and claims. */
export interface TokenKind {
  name: 'access' | 'refresh';
  /** Header `typ`, e.g. `at+jwt`. */
  typ: string;
  issuer: string;
  audience: string;
  /** The one algorithm this kind is signed and verified with (pinned). */
  algorithm: TokenAlgorithm;
  /** Newest first: the first signs, all verify. */
  keys: readonly SigningKey[];
  /** Claims every token of this kind must carry, besides the registered ones. */
  claims: readonly string[];
  /** Verified tokens fast-jwt remembers (by their exact string); none when absent. */
  cacheSize?: number;
}

export interface JwtCodec<Claims> {
  sign(claims: Claims): string;
  /** Returns the claims of a valid token or throws AuthError `token_invalid` / `token_expired`. */
  verify(token: string): Claims;
}

/** One @fastify/jwt registration: a namespace (one verifier, one signer) per key. */
export interface JwtRegistration {
  kid: string;
  options: FastifyJWTOptions & { namespace: string };
}

/** Registered claims we always set and always require. */
const REGISTERED = ['iss', 'aud', 'sub', 'iat', 'exp', 'jti'];

/**
 * fast-jwt's verifier options for a kind: its one algorithm, `typ`, issuer, audience and
 * claims; shared with versioned-auth/verify, which builds a verifier per published key.
 */
export function verifierOptions(kind: Pick<TokenKind, 'algorithm' | 'typ' | 'issuer' | 'audience' | 'claims' | 'cacheSize'>) {
  return {
    algorithms: [kind.algorithm],
    checkTyp: kind.typ,
    allowedIss: kind.issuer,
    allowedAud: kind.audience,
    requiredClaims: [...REGISTERED, ...kind.claims],
    // fast-jwt fixes its clock when the verifier is built: times are checked against the
    // injected clock in checkTimes instead, on every call, cached or not.
    ignoreExpiration: true,
    ignoreNotBefore: true,
    cache: kind.cacheSize ?? false,
    // fast-jwt warns that a custom cache key is a risk when two tokens can share one.
    // The key here is the whole token string, so no two tokens ever do; and a hit is as
    // cheap as a Map lookup instead of a hash of the token on every request.
    cacheKeyBuilder: (token: string) => token,
  };
}

/**
 * The @fastify/jwt options for each key of a kind. A namespace per key keeps every
 * verifier synchronous and built once (a secret given as a function makes @fastify/jwt
 * asynchronous, and per-call options build a new verifier on every call).
 */
export function jwtRegistrations(kind: TokenKind, namespacePrefix: string): JwtRegistration[] {
  return kind.keys.map(({ kid, secret }) => ({
    kid,
    options: {
      namespace: `${namespacePrefix}${kind.name}:${kid}`,
      secret,
      sign: { algorithm: kind.algorithm, kid, typ: kind.typ },
      verify: verifierOptions(kind),
    },
  }));
}

/**
 * Signs with the first key's namespace and verifies with the namespace of the token's key.
 * The few lines here are only where the contract is stricter than fast-jwt: a length cap,
 * one spelling per signature, times on the injected clock, and the claims' shapes.
 */
export function createCodec<Claims extends object>(kind: TokenKind, byKid: ReadonlyMap<string, JWT>, clock: Clock): JwtCodec<Claims> {
  const [signer] = byKid.values();
  if (!signer) throw new Error(`no ${kind.name} token key`);
  // Our own tokens carry exactly the header our signer writes for their key: one Map lookup
  // of that segment picks the verifier; any other header is picked by its `kid`.
  const byHeader = new Map([...byKid.values()].map((jwt) => [headerSegment(jwt.sign({})), jwt]));
  const isAccess = kind.name === 'access';
  const signature = signatureShape(SIGNATURE_BYTES[kind.algorithm]);

  return {
    sign: (claims) => signer.sign(claims),
    verify(token) {
      if (token.length > MAX_TOKEN_LENGTH || !canonicalSignature(token, signature)) throw tokenInvalid();
      const header = headerSegment(token);
      const verifier = byHeader.get(header) ?? byKid.get(kidOf(header));
      if (!verifier) throw tokenInvalid();
      let claims: Record<string, unknown>;
      try {
        claims = verifier.verify<Record<string, unknown>>(token);
      } catch {
        throw tokenInvalid();
      }
      acceptClaims(claims, Math.floor(clock.now() / 1000), isAccess);
      return claims as Claims;
    },
  };
}

/** Signature bytes: HMAC-SHA256 32, Ed25519 64, ES256 64 (JOSE's r ‖ s, not DER). */
const SIGNATURE_BYTES: Record<TokenAlgorithm, number> = { HS256: 32, EdDSA: 64, ES256: 64 };

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

export interface SignatureShape {
  /** Characters of the unpadded base64url signature: 43 for 32 bytes, 86 for 64. */
  length: number;
  /** The characters the last one may be. */
  last: ReadonlySet<string>;
}

/**
 * The last base64url character of a signature carries some bits of it and some unused
 * ones (2 of 6 for 32 bytes, 4 of 6 for 64); a decoder ignores those, so 4 (or 16) strings,
 * all accepted by fast-jwt, would carry one signature. Only the one with the unused bits at
 * 0 is accepted, so a signature has exactly one spelling.
 */
export function signatureShape(bytes: number): SignatureShape {
  const length = Math.ceil((bytes * 8) / 6);
  const unusedBits = length * 6 - bytes * 8;
  return { length, last: new Set([...BASE64URL].filter((_, value) => value % 2 ** unusedBits === 0)) };
}

/** Whether the token's signature segment has the shape's length and its one canonical spelling. */
export function canonicalSignature(token: string, { length, last }: SignatureShape): boolean {
  return token.length - token.lastIndexOf('.') - 1 === length && last.has(token[token.length - 1]!);
}

const headerSegment = (token: string) => token.slice(0, token.indexOf('.'));

/** The `kid` of a header segment; only picks the verifier, which then checks everything. */
export function kidOf(header: string): string {
  try {
    const kid = (JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { kid?: unknown })?.kid;
    return typeof kid === 'string' ? kid : '';
  } catch {
    return '';
  }
}
