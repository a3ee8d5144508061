import { randomUUID } from 'node:crypto';
import { createSessionsRepository } from '../db/sessions.js';
import { invalidCredentials } from '../errors.js';
import { rateLimitKey } from '../rate-limit/address-key.js';
import type { AuthDeps, DeviceInfo, SignedIn } from './deps.js';

export interface SessionTokensInput {
  user: { id: string; email: string };
  sessionId: string;
  refreshTokenVersion: number;
  /** The session's current refresh jti. */
  refreshJti: string;
  expiresAt: Date;
}

/** Mints the access and refresh token pair for a session state that is already committed or about to be. */
export function issueSessionTokens(deps: Pick<AuthDeps, 'tokens' | 'clock'>, s: SessionTokensInput): SignedIn {
  const ref = { userId: s.user.id, sessionId: s.sessionId, refreshTokenVersion: s.refreshTokenVersion };
  return {
    user: { id: s.user.id, email: s.user.email },
    sessionId: s.sessionId,
    accessToken: deps.tokens.issueAccess({ ...ref, email: s.user.email }),
    expiresIn: deps.tokens.accessTtl,
    refreshToken: deps.tokens.issueRefresh({ ...ref, jti: s.refreshJti, expiresAt: s.expiresAt.getTime() }),
    refreshExpiresIn: Math.max(0, Math.floor((s.expiresAt.getTime() - deps.clock.now()) / 1000)),
  };
}

/** Opens a new session (device) for the user and returns its tokens. `deps.db` may be a transaction. */
export async function startSession(
  deps: AuthDeps,
  user: { id: string; email: string },
  device: DeviceInfo,
): Promise<SignedIn> {
  const now = deps.clock.now();
  const session = {
    id: randomUUID(),
    userId: user.id,
    refreshJti: randomUUID(),
    now: new Date(now),
    expiresAt: new Date(now + deps.refreshTtl * 1000),
    address: device.ip === null ? null : rateLimitKey(device.ip),
    forgetBefore: new Date(now - deps.refreshTtl * 1000),
    ...device,
  };
  const refreshTokenVersion = await createSessionsRepository(deps.db).insert(session);
  // The account was deleted between the password check and here.
  if (refreshTokenVersion === undefined) throw invalidCredentials();
  return issueSessionTokens(deps, {
    user,
    sessionId: session.id,
    refreshTokenVersion,
    refreshJti: session.refreshJti,
    expiresAt: session.expiresAt,
  });
}
