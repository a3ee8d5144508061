import type { User } from '../db/schema.js';
import { createUsersRepository } from '../db/users.js';
import { AuthError } from '../errors.js';
import type { AccessClaims } from '../tokens/index.js';
import type { AuthDeps } from './deps.js';

/**
 * The user an access token speaks for, on routes that read the database anyway: refused
 * with `token_revoked` when the account is gone or its refresh token version has moved on
 * since the token was minted (logout-all, password change), as the contract asks.
 */
export async function currentUser(deps: AuthDeps, access: AccessClaims): Promise<User> {
  const user = await createUsersRepository(deps.db).findById(access.sub);
  if (!user) throw new AuthError('token_revoked', 'The account no longer exists');
  if (user.refreshTokenVersion !== access.refreshTokenVersion) {
    throw new AuthError('token_revoked', 'The token was minted before the last sign-out everywhere');
  }
  return user;
}
