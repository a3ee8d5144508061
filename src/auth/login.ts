import { recordAuthEvent, recordLoginFailure } from '../db/auth-events.js';
import { createUsersRepository } from '../db/users.js';
import { AuthError, invalidCredentials } from '../errors.js';
import { normalizeCredentials } from './credentials.js';
import type { AuthDeps, DeviceInfo, SignedIn } from './deps.js';
import { reservePasswordAttempt } from './password-attempts.js';
import { deviceFields } from './security-log.js';
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
  const refused = (error: unknown) => recordRefusal(deps, email, device, error);
  // Counted before any argon2 work, by email whether or not it has an account.
  const attempt = await reservePasswordAttempt(deps, { email }, device).catch(refused);
  const users = createUsersRepository(deps.db);
  const user = await users.findByEmail(email);
  const valid = user
    ? await deps.passwords.verify(user.passwordHash, password)
    : await deps.passwords.verifyDummy(password).then(() => false);
  if (!user || !valid) return refused(invalidCredentials());
  await attempt?.succeeded();
  if (deps.passwords.needsRehash(user.passwordHash)) {
    await users.replacePasswordHash(user.id, user.passwordHash, await deps.passwords.hash(password), new Date(deps.clock.now()));
  }
  return deps.db.transaction(async (tx) => {
    const signedIn = await startSession({ ...deps, db: tx }, user, device);
    await recordAuthEvent(tx, { userId: user.id, type: 'login', sessionId: signedIn.sessionId, ...deviceFields(device), at: new Date(deps.clock.now()) });
    return signedIn;
  });
}

/**
 * Records a refused sign-in, then throws `error`. Recorded for an unknown email too, as an
 * event of no account (`user_id` null, never shown to anyone): both answers then wait for
 * the same one INSERT, so recording a known account's failure adds nothing an unknown
 * email's answer lacks: same body, headers and timing profile. (Writing only a known
 * account's failure after the answer would hide it as well, but leaves work behind the
 * answer that a restart loses and that a test can only wait for.)
 */
async function recordRefusal(deps: AuthDeps, email: string, device: DeviceInfo, error: unknown): Promise<never> {
  if (error instanceof AuthError && (error.code === 'invalid_credentials' || error.code === 'rate_limited')) {
    await recordLoginFailure(deps.db, { email, code: error.code, ...deviceFields(device), at: new Date(deps.clock.now()) });
  }
  throw error;
}
