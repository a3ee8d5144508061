import { recordAuthEvent } from '../db/auth-events.js';
import { createUsersRepository } from '../db/users.js';
import { wrongPassword } from '../errors.js';
import type { AccessClaims } from '../tokens/index.js';
import { normalizePassword } from './credentials.js';
import type { AuthDeps, DeviceInfo, SignedIn } from './deps.js';
import { reauthenticate } from './reauthenticate.js';
import { deviceFields } from './security-log.js';
import { startSession } from './session-tokens.js';

/**
 * Changes the password and signs every device out: the new hash and the version bump are
 * one statement, and this device gets a new session at the new version in the same
 * transaction, with the `password_changed` event (of that new session: the one this device
 * goes on with).
 */
export async function changePassword(
  deps: AuthDeps,
  access: AccessClaims,
  input: { currentPassword: string; newPassword: string },
  device: DeviceInfo,
): Promise<SignedIn> {
  const newPassword = normalizePassword(input.newPassword, '/newPassword');
  const user = await reauthenticate(deps, access, input.currentPassword, '/currentPassword', device);
  const newHash = await deps.passwords.hash(newPassword);
  return deps.db.transaction(async (tx) => {
    const now = new Date(deps.clock.now());
    const changed = await createUsersRepository(tx).changePassword(user.id, user.passwordHash, newHash, now);
    // Another change won the race since we checked: the current password may no longer be right.
    if (changed === undefined) throw wrongPassword();
    const signedIn = await startSession({ ...deps, db: tx }, user, device);
    await recordAuthEvent(tx, { userId: user.id, type: 'password_changed', sessionId: signedIn.sessionId, ...deviceFields(device), at: now });
    return signedIn;
  });
}
