import { createSessionsRepository } from '../db/sessions.js';
import { createUsersRepository } from '../db/users.js';
import { AuthError } from '../errors.js';
import type { AccessClaims } from '../tokens/index.js';
import { currentUser } from './current-user.js';
import type { AuthDeps } from './deps.js';

/** The credential a logout names its session by: a refresh token, or the claims of a verified access token. */
export type LogoutCredential = { refreshToken: string } | { access: AccessClaims };

/** Revokes one session (this device). Idempotent: an already revoked session answers the same. */
export async function logout(deps: AuthDeps, credential: LogoutCredential): Promise<void> {
  const claims = 'refreshToken' in credential ? deps.tokens.verifyRefresh(credential.refreshToken) : credential.access;
  if ('access' in credential) await currentUser(deps, credential.access);
  await createSessionsRepository(deps.db).revoke(claims.sid, claims.sub, new Date(deps.clock.now()));
}

/**
 * Logout-everywhere: bumps the user's refresh token version; every outstanding refresh token
 * dies with it. Only from the version the access token carries: a token minted before an
 * earlier bump (or for a deleted account) is refused with `token_revoked`.
 */
export async function logoutAll(
  deps: AuthDeps,
  access: AccessClaims,
): Promise<{ refreshTokenVersion: number; revokedAt: Date }> {
  const revokedAt = new Date(deps.clock.now());
  const refreshTokenVersion = await createUsersRepository(deps.db).bumpRefreshTokenVersion(access.sub, access.refreshTokenVersion, revokedAt);
  if (refreshTokenVersion === undefined) throw new AuthError('token_revoked', 'The token is older than the account\'s last sign-out everywhere');
  return { refreshTokenVersion, revokedAt };
}
