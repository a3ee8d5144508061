import { randomUUID } from 'node:crypto';
import type { Config } from '../config/index.js';
import { AuthError } from '../errors.js';
import { isUuid } from '../uuid.js';
import { createJwtCodec } from './jwt.js';

export { CLOCK_SKEW_SECONDS, MAX_TOKEN_LENGTH } from './jwt.js';

/** Access tokens whose verification is remembered: about 1 KiB each. */
export const ACCESS_CACHE_SIZE = 10_000;

/** Exactly the contract's access token claims. */
export interface AccessClaims {
  iss: string;
  aud: string;
  sub: string;
  sid: string;
  email: string;
  refreshTokenVersion: number;
  iat: number;
  exp: number;
  jti: string;
}

/** Exactly the contract's refresh token claims; `aud` is `<audience>:refresh`. */
export interface RefreshClaims {
  iss: string;
  aud: string;
  sub: string;
  sid: string;
  refreshTokenVersion: number;
  iat: number;
  exp: number;
  jti: string;
}

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
}

/** Signing and verification for both token kinds, each with its own keys, `typ` and `aud`. */
export function createTokens(config: Pick<Config, 'jwt' | 'clock'>): Tokens {
  const { jwt, clock } = config;
  const access = createJwtCodec<AccessClaims>(
    {
      typ: 'at+jwt',
      issuer: jwt.issuer,
      audience: jwt.audience,
      secrets: jwt.accessSecrets,
      claims: ['sid', 'email', 'refreshTokenVersion'],
      cacheSize: ACCESS_CACHE_SIZE,
    },
    clock,
  );
  const refreshAudience = `${jwt.audience}:refresh`;
  const refresh = createJwtCodec<RefreshClaims>(
    {
      typ: 'rt+jwt',
      issuer: jwt.issuer,
      audience: refreshAudience,
      secrets: jwt.refreshSecrets,
      claims: ['sid', 'refreshTokenVersion'],
    },
    clock,
  );
  const nowSeconds = () => Math.floor(clock.now() / 1000);

  return {
    accessTtl: jwt.accessTtl,
    issueAccess: ({ userId, sessionId, email, refreshTokenVersion }) => {
      const iat = nowSeconds();
      return access.sign({
        iss: jwt.issuer,
        aud: jwt.audience,
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
        aud: refreshAudience,
        sub: userId,
        sid: sessionId,
        refreshTokenVersion,
        iat: nowSeconds(),
        exp: Math.floor(expiresAt / 1000),
        jti,
      }),
    verifyAccess: (token) => checkShape(access.verify(token), true),
    verifyRefresh: (token) => checkShape(refresh.verify(token), false),
  };
}

/** `users.refresh_token_version` is a PostgreSQL integer. */
const INT4_MAX = 2 ** 31 - 1;

/**
 * Signed claims are ours, but a key leaked or shared by mistake must still not smuggle odd
 * types into a database query: ids are UUIDs, the version a non-negative integer, and
 * `aud` a single string (fast-jwt would accept an array that contains ours).
 */
function checkShape<C extends RefreshClaims | AccessClaims>(claims: C, isAccess: boolean): C {
  const valid =
    typeof claims.aud === 'string' &&
    isUuid(claims.sub) &&
    isUuid(claims.sid) &&
    isUuid(claims.jti) &&
    Number.isSafeInteger(claims.refreshTokenVersion) &&
    claims.refreshTokenVersion >= 0 &&
    claims.refreshTokenVersion <= INT4_MAX &&
    (!isAccess || typeof (claims as AccessClaims).email === 'string');
  if (!valid) throw new AuthError('token_invalid', 'The token is invalid');
  return claims;
}
