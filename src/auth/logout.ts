import { recordAuthEvent } from '../db/auth-events.js';
import { createSessionsRepository } from '../db/sessions.js';
import { createUsersRepository } from '../db/users.js';
import { AuthError } from '../errors.js';
import type { AccessClaims } from '../tokens/index.js';
import { currentUser } from './current-user.js';
import type { AuthDeps, DeviceInfo } from './deps.js';
import { deviceFields } from './security-log.js';

/** The credential a logout names its session by: a refresh token, or the claims of a verified access token. */
export type LogoutCredential = { refreshToken: string } | { access: AccessClaims };

/**
 * Revokes one session (this device), with its `logout` event. Idempotent: an already revoked
 * session answers the same, and records nothing.
 */
export async function logout(deps: AuthDeps, credential: LogoutCredential, device: DeviceInfo): Promise<void> {
  const claims = 'refreshToken' in credential ? deps.tokens.verifyRefresh(credential.refreshToken) : credential.access;
  if ('access' in credential) await currentUser(deps, credential.access);
  const now = new Date(deps.clock.now());
  await deps.db.transaction(async (tx) => {
    if (await createSessionsRepository(tx).revoke(claims.sid, claims.sub, now)) {
      await recordAuthEvent(tx, { userId: claims.sub, type: 'logout', sessionId: claims.sid, ...deviceFields(device), at: now });
    }
  });
}

/**
 * Logout-everywhere: bumps the user's refresh token version; every outstanding refresh token
 * dies with it. Only from the version the access token carries: a token minted before an
 * earlier bump (or for a deleted account) is refused with `token_revoked`, and records nothing.
 */
export async function logoutAll(
  deps: AuthDeps,
  access: AccessClaims,
  device: DeviceInfo,
): Promise<{ refreshTokenVersion: number; revokedAt: Date }> {
  const revokedAt = new Date(deps.clock.now());
  const refreshTokenVersion = await deps.db.transaction(async (tx) => {
    const version = await createUsersRepository(tx).bumpRefreshTokenVersion(access.sub, access.refreshTokenVersion, revokedAt);
    if (version !== undefined) {
      await recordAuthEvent(tx, { userId: access.sub, type: 'logout_all', sessionId: access.sid, ...deviceFields(device), at: revokedAt });
    }
    return version;
  });
  if (refreshTokenVersion === undefined) throw new AuthError('token_revoked', 'The token is older than the account\'s last sign-out everywhere');
  return { refreshTokenVersion, revokedAt };
}
