import { createUsersRepository } from '../db/users.js';
import { wrongPassword } from '../errors.js';
import type { AccessClaims } from '../tokens/index.js';
import { normalizePassword } from './credentials.js';
import type { AuthDeps, DeviceInfo, SignedIn } from './deps.js';
import { reauthenticate } from './reauthenticate.js';
import { startSession } from './session-tokens.js';

/**
 * Changes the password and signs every device out: the new hash and the version bump are
 * one statement, and this device gets a new session at the new version in the same
 * transaction.
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
    const changed = await createUsersRepository(tx).changePassword(user.id, user.passwordHash, newHash, new Date(deps.clock.now()));
    // Another change won the race since we checked: the current password may no longer be right.
    if (changed === undefined) throw wrongPassword();
    return startSession({ ...deps, db: tx }, user, device);
  });
}
