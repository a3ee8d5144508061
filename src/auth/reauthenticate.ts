import type { User } from '../db/schema.js';
import { wrongPassword } from '../errors.js';
import type { AccessClaims } from '../tokens/index.js';
import { normalizePassword } from './credentials.js';
import { currentUser } from './current-user.js';
import type { AuthDeps, DeviceInfo } from './deps.js';
import { reservePasswordAttempt } from './password-attempts.js';

/**
 * Checks the signed-in user's password before a sensitive change. `token_revoked` when the
 * account is gone or the token is older than its version, `rate_limited` when the login
 * limits refuse another guess (a stolen access token buys no more guesses than the login
 * form), `invalid_credentials` when the password is wrong.
 */
export async function reauthenticate(
  deps: AuthDeps,
  access: AccessClaims,
  rawPassword: string,
  path: string,
  device: DeviceInfo,
): Promise<User> {
  const password = normalizePassword(rawPassword, path);
  const user = await currentUser(deps, access);
  const attempt = await reservePasswordAttempt(deps, { email: user.email, userId: user.id }, device);
  if (!(await deps.passwords.verify(user.passwordHash, password))) {
    throw wrongPassword();
  }
  await attempt?.succeeded();
  return user;
}
