import { listAuthEvents, type AuthEventPage } from '../db/auth-events.js';
import type { AccessClaims } from '../tokens/index.js';
import { currentUser } from './current-user.js';
import type { AuthDeps, DeviceInfo } from './deps.js';

/** What an event records of the request that caused it. */
export const deviceFields = (device: DeviceInfo) => ({ ip: device.ip, userAgent: device.userAgent });

/**
 * The caller's security log, newest first, one page: `before` is the previous page's `next`.
 * Refused like the other routes that read the database (`token_revoked` for an account
 * deleted or signed out everywhere since the token was minted).
 */
export async function listEvents(deps: AuthDeps, access: AccessClaims, page: { limit: number; before?: string }): Promise<AuthEventPage> {
  await currentUser(deps, access);
  return listAuthEvents(deps.db, access.sub, { limit: page.limit, before: page.before?.toLowerCase() });
}
