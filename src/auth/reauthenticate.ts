import type { User } from '../db/schema.js';
import { wrongPassword } from '../errors.js';
import type { AccessClaims } from '../tokens/index.js';
import { normalizePassword } from './credentials.js';
import { currentUser } from './current-user.js';
import type { AuthDeps } from './deps.js';

/**
 * Checks the signed-in user's password before a sensitive change. `token_revoked` when the
 * account is gone or the token is older than its version, `invalid_credentials` when the
 * password is wrong.
 */
export async function reauthenticate(deps: AuthDeps, access: AccessClaims, rawPassword: string, path: string): Promise<User> {
  const password = normalizePassword(rawPassword, path);
  const user = await currentUser(deps, access);
  if (!(await deps.passwords.verify(user.passwordHash, password))) {
    throw wrongPassword();
  }
  return user;
}
