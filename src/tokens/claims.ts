import { AuthError } from '../errors.js';
import { isUuid } from '../uuid.js';

/** Tolerated clock difference between instances and clients (the contract's maximum). */
export const CLOCK_SKEW_SECONDS = 30;

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

/** `users.refresh_token_version` is a PostgreSQL integer. */
const INT4_MAX = 2 ** 31 - 1;

/**
 * Signed claims are ours, but a key leaked or shared by mistake must still not smuggle odd
 * types into a database query: ids are UUIDs, the version a non-negative integer, and
 * `aud` a single string (fast-jwt accepts an array that contains ours).
 */
export function hasContractShape(claims: Record<string, unknown>, isAccess: boolean): boolean {
  const version = claims.refreshTokenVersion;
  return (
    typeof claims.aud === 'string' &&
    isUuid(claims.sub) &&
    isUuid(claims.sid) &&
    isUuid(claims.jti) &&
    Number.isSafeInteger(version) &&
    (version as number) >= 0 &&
    (version as number) <= INT4_MAX &&
    (!isAccess || typeof claims.email === 'string')
  );
}

/**
 * Times against the injected clock (fast-jwt would read the system clock): `exp` required,
 * `iat` and `nbf` at most the skew in the future.
 */
export function checkTimes(claims: Record<string, unknown>, nowSeconds: number): void {
  const { exp, iat, nbf } = claims;
  if (!isTime(exp) || !isTime(iat) || (nbf !== undefined && !isTime(nbf))) throw tokenInvalid();
  if (iat > nowSeconds + CLOCK_SKEW_SECONDS) throw tokenInvalid();
  if (nbf !== undefined && nbf > nowSeconds + CLOCK_SKEW_SECONDS) throw tokenInvalid();
  if (exp + CLOCK_SKEW_SECONDS <= nowSeconds) throw new AuthError('token_expired', 'The token has expired');
}

const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);

/**
 * Checks what a verifier returned: times on the injected clock always, the claims' shapes
 * once. fast-jwt's cache hands back the same object for the same token, so it is frozen
 * once it has passed: a cache hit skips the shape check and nobody can alter it. Returns
 * true when this call checked and froze it (not a cache hit).
 */
export function acceptClaims(claims: Record<string, unknown>, nowSeconds: number, isAccess: boolean): boolean {
  checkTimes(claims, nowSeconds);
  if (Object.isFrozen(claims)) return false;
  if (!hasContractShape(claims, isAccess)) throw tokenInvalid();
  Object.freeze(claims);
  return true;
}

export const tokenInvalid = () => new AuthError('token_invalid', 'The token is invalid');
