import { createUsersRepository } from '../db/users.js';
import { invalidCredentials } from '../errors.js';
import { normalizeCredentials } from './credentials.js';
import type { AuthDeps, DeviceInfo, SignedIn } from './deps.js';
import { reservePasswordAttempt } from './password-attempts.js';
import { startSession } from './session-tokens.js';

/**
 * Signs in with email and password. An unknown email and a wrong password take the same
 * argon2 work and end in the same error, so neither timing nor body tells them apart.
 */
export async function login(
  deps: AuthDeps,
  input: { email: string; password: string },
  device: DeviceInfo,
): Promise<SignedIn> {
  const { email, password } = normalizeCredentials(input);
  // Counted before any argon2 work, by email whether or not it has an account.
  const attempt = await reservePasswordAttempt(deps, { email }, device);
  const users = createUsersRepository(deps.db);
  const user = await users.findByEmail(email);
  const valid = user
    ? await deps.passwords.verify(user.passwordHash, password)
    : await deps.passwords.verifyDummy(password).then(() => false);
  if (!user || !valid) throw invalidCredentials();
  await attempt?.succeeded();
  if (deps.passwords.needsRehash(user.passwordHash)) {
    await users.replacePasswordHash(user.id, user.passwordHash, await deps.passwords.hash(password), new Date(deps.clock.now()));
  }
  return startSession(deps, user, device);
}
