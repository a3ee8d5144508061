import { createPrivateKey, randomUUID } from 'node:crypto';
import type { JWT } from '@fastify/jwt';
import type { Config } from '../config/index.js';
import type { AccessClaims, RefreshClaims } from './claims.js';
import { createCodec, type TokenKind } from './codec.js';
import { jwksKey, type JsonWebKeySet } from './jwk.js';
import { asymmetricKeyRing, keyRing } from './key-ring.js';

export { CLOCK_SKEW_SECONDS, type AccessClaims, type RefreshClaims } from './claims.js';
export { MAX_TOKEN_LENGTH, jwtRegistrations, type TokenAlgorithm, type TokenKind } from './codec.js';
export type { JsonWebKeySet, JwksKey } from './jwk.js';

/** What an access token carries besides the registered claims (the contract's). */
export const ACCESS_CLAIMS = ['sid', 'email', 'refreshTokenVersion'] as const;

/** Access tokens whose verification fast-jwt remembers: about 1 KiB each. */
export const ACCESS_CACHE_SIZE = 10_000;

export interface SessionRef {
  userId: string;
  sessionId: string;
  refreshTokenVersion: number;
}

export interface Tokens {
  /** Seconds an access token lives. */
  accessTtl: number;
  issueAccess(session: SessionRef & { email: string }): string;
  /** `jti` is the session's current refresh jti; `expiresAt` the session's absolute end (ms). */
  issueRefresh(session: SessionRef & { jti: string; expiresAt: number }): string;
  verifyAccess(token: string): AccessClaims;
  verifyRefresh(token: string): RefreshClaims;
  /** The public access-token keys, as `GET /.well-known/jwks.json` serves them (none with HS256). */
  jwks: JsonWebKeySet;
}

/** The two kinds, each with its own keys, `typ` and `aud`. */
export function tokenKinds(jwt: Config['jwt']): { access: TokenKind; refresh: TokenKind } {
  return {
    access: {
      name: 'access',
      typ: 'at+jwt',
      issuer: jwt.issuer,
      audience: jwt.audience,
      algorithm: jwt.accessAlgorithm,
      keys: jwt.accessAlgorithm === 'HS256' ? keyRing(jwt.accessSecrets) : asymmetricKeyRing(jwt.accessPrivateKeys),
      claims: ACCESS_CLAIMS,
      cacheSize: ACCESS_CACHE_SIZE,
    },
    refresh: {
      name: 'refresh',
      typ: 'rt+jwt',
      issuer: jwt.issuer,
      audience: `${jwt.audience}:refresh`,
      algorithm: 'HS256',
      keys: keyRing(jwt.refreshSecrets),
      claims: ['sid', 'refreshTokenVersion'],
    },
  };
}

/**
 * Issuing and verifying both kinds, over the @fastify/jwt namespaces registered for their
 * keys (by `kid`, signing key first): src/plugins/tokens.ts builds it.
 */
export function createTokens(
  config: Pick<Config, 'jwt' | 'clock'>,
  jwtByKid: { access: ReadonlyMap<string, JWT>; refresh: ReadonlyMap<string, JWT> },
): Tokens {
  const { jwt, clock } = config;
  const kinds = tokenKinds(jwt);
  const access = createCodec<AccessClaims>(kinds.access, jwtByKid.access, clock);
  const refresh = createCodec<RefreshClaims>(kinds.refresh, jwtByKid.refresh, clock);
  const nowSeconds = () => Math.floor(clock.now() / 1000);

  return {
    accessTtl: jwt.accessTtl,
    issueAccess: ({ userId, sessionId, email, refreshTokenVersion }) => {
      const iat = nowSeconds();
      return access.sign({
        iss: jwt.issuer,
        aud: kinds.access.audience,
        sub: userId,
        sid: sessionId,
        email,
        refreshTokenVersion,
        iat,
        exp: iat + jwt.accessTtl,
        jti: randomUUID(),
      });
    },
    issueRefresh: ({ userId, sessionId, refreshTokenVersion, jti, expiresAt }) =>
      refresh.sign({
        iss: jwt.issuer,
        aud: kinds.refresh.audience,
        sub: userId,
        sid: sessionId,
        refreshTokenVersion,
        iat: nowSeconds(),
        exp: Math.floor(expiresAt / 1000),
        jti,
      }),
    verifyAccess: access.verify,
    verifyRefresh: refresh.verify,
    jwks: accessJwks(jwt),
  };
}

/** The published access-token keys, signing key first: every key of an EdDSA/ES256 ring, none with HS256. */
export function accessJwks(jwt: Pick<Config['jwt'], 'accessAlgorithm' | 'accessPrivateKeys'>): JsonWebKeySet {
  if (jwt.accessAlgorithm === 'HS256') return { keys: [] };
  return { keys: jwt.accessPrivateKeys.map((pem) => jwksKey(createPrivateKey(pem))) };
}
