import { createSessionsRepository } from '../db/sessions.js';
import { AuthError } from '../errors.js';
import type { AccessClaims } from '../tokens/index.js';
import { isUuid } from '../uuid.js';
import { currentUser } from './current-user.js';
import type { AuthDeps } from './deps.js';

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

/** Signs one device out. `not_found` for an unknown id and for another user's session alike. */
export async function revokeSession(deps: AuthDeps, access: AccessClaims, sessionId: string): Promise<void> {
  const id = sessionId.toLowerCase();
  await currentUser(deps, access);
  const revoked =
    isUuid(id) && (await createSessionsRepository(deps.db).revokeLive(id, access.sub, new Date(deps.clock.now())));
  if (!revoked) throw new AuthError('not_found', 'No such session');
}

/** Signs every device out but the caller's; returns how many sessions it ended. */
export async function logoutOthers(deps: AuthDeps, access: AccessClaims): Promise<number> {
  await currentUser(deps, access);
  return createSessionsRepository(deps.db).revokeOthers(access.sub, access.sid, new Date(deps.clock.now()));
}
