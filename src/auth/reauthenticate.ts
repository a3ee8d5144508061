import { createUsersRepository } from '../db/users.js';
import type { User } from '../db/schema.js';
import { AuthError, invalidCredentials } from '../errors.js';
import { normalizePassword } from './credentials.js';
import type { AuthDeps } from './deps.js';

/**
 * Checks the signed-in user's password before a sensitive change. `token_revoked` when the
 * account is gone, `invalid_credentials` when the password is wrong.
 */
export async function reauthenticate(deps: AuthDeps, userId: string, rawPassword: string, path: string): Promise<User> {
  const password = normalizePassword(rawPassword, path);
  const user = await createUsersRepository(deps.db).findById(userId);
  if (!user) throw new AuthError('token_revoked', 'The account no longer exists');
  if (!(await deps.passwords.verify(user.passwordHash, password))) {
    throw invalidCredentials();
  }
  return user;
}
