import { createUsersRepository } from '../db/users.js';
import { wrongPassword } from '../errors.js';
import type { AccessClaims } from '../tokens/index.js';
import type { AuthDeps, DeviceInfo } from './deps.js';
import { reauthenticate } from './reauthenticate.js';

/** Deletes the account and all its sessions; every refresh token of the user dies with the row. */
export async function deleteAccount(deps: AuthDeps, access: AccessClaims, password: string, device: DeviceInfo): Promise<void> {
  const user = await reauthenticate(deps, access, password, '/password', device);
  if (!(await createUsersRepository(deps.db).delete(user.id, user.passwordHash, new Date(deps.clock.now())))) {
    throw wrongPassword();
  }
}
