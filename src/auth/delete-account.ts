import { recordAuthEvent } from '../db/auth-events.js';
import { createUsersRepository } from '../db/users.js';
import { wrongPassword } from '../errors.js';
import type { AccessClaims } from '../tokens/index.js';
import type { AuthDeps, DeviceInfo } from './deps.js';
import { reauthenticate } from './reauthenticate.js';
import { deviceFields } from './security-log.js';

/**
 * Deletes the account and all its sessions; every refresh token of the user dies with the row.
 * The `account_deleted` event is written in the deletion's transaction and outlives the user
 * (no foreign key); like every event it holds no email.
 */
export async function deleteAccount(deps: AuthDeps, access: AccessClaims, password: string, device: DeviceInfo): Promise<void> {
  const user = await reauthenticate(deps, access, password, '/password', device);
  await deps.db.transaction(async (tx) => {
    const now = new Date(deps.clock.now());
    if (!(await createUsersRepository(tx).delete(user.id, user.passwordHash, now))) {
      throw wrongPassword();
    }
    await recordAuthEvent(tx, { userId: user.id, type: 'account_deleted', sessionId: access.sid, ...deviceFields(device), at: now });
  });
}
