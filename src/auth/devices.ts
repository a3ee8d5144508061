import { recordAuthEvent } from '../db/auth-events.js';
import { createSessionsRepository } from '../db/sessions.js';
import { AuthError } from '../errors.js';
import type { AccessClaims } from '../tokens/index.js';
import { isUuid } from '../uuid.js';
import { currentUser } from './current-user.js';
import type { AuthDeps, DeviceInfo } from './deps.js';
import { deviceFields } from './security-log.js';

export interface DeviceSession {
  id: string;
  current: boolean;
  createdAt: Date;
  lastUsedAt: Date;
  expiresAt: Date;
  userAgent: string | null;
  ip: string | null;
}

/** The caller's live sessions, newest first, with the one the access token belongs to marked. */
export async function listSessions(deps: AuthDeps, access: AccessClaims): Promise<DeviceSession[]> {
  await currentUser(deps, access);
  const rows = await createSessionsRepository(deps.db).listLive(access.sub, new Date(deps.clock.now()));
  return rows.map((row) => ({ ...row, current: row.id === access.sid }));
}

/**
 * Signs one device out, with a `session_revoked` event naming that session. `not_found` for an
 * unknown id and for another user's session alike.
 */
export async function revokeSession(deps: AuthDeps, access: AccessClaims, sessionId: string, device: DeviceInfo): Promise<void> {
  const id = sessionId.toLowerCase();
  await currentUser(deps, access);
  const now = new Date(deps.clock.now());
  const revoked =
    isUuid(id) &&
    (await deps.db.transaction(async (tx) => {
      const done = await createSessionsRepository(tx).revokeLive(id, access.sub, now);
      if (done) await recordAuthEvent(tx, { userId: access.sub, type: 'session_revoked', sessionId: id, ...deviceFields(device), at: now });
      return done;
    }));
  if (!revoked) throw new AuthError('not_found', 'No such session');
}

/**
 * Signs every device out but the caller's; returns how many sessions it ended. A
 * `logout_others` event (of the caller's session) when it ended any.
 */
export async function logoutOthers(deps: AuthDeps, access: AccessClaims, device: DeviceInfo): Promise<number> {
  await currentUser(deps, access);
  const now = new Date(deps.clock.now());
  return deps.db.transaction(async (tx) => {
    const revoked = await createSessionsRepository(tx).revokeOthers(access.sub, access.sid, now);
    if (revoked > 0) await recordAuthEvent(tx, { userId: access.sub, type: 'logout_others', sessionId: access.sid, ...deviceFields(device), at: now });
    return revoked;
  });
}
