import { randomUUID } from 'node:crypto';
import { createUsersRepository } from '../db/users.js';
import { AuthError } from '../errors.js';
import { normalizeCredentials } from './credentials.js';
import type { AuthDeps, DeviceInfo, SignedIn } from './deps.js';
import { startSession } from './session-tokens.js';

/** Creates the account and its first session in one transaction. */
export async function register(
  deps: AuthDeps,
  input: { email: string; password: string },
  device: DeviceInfo,
): Promise<SignedIn> {
  const { email, password } = normalizeCredentials(input);
  const passwordHash = await deps.passwords.hash(password);
  return deps.db.transaction(async (tx) => {
    const user = await createUsersRepository(tx).insert({
      id: randomUUID(),
      email,
      passwordHash,
      now: new Date(deps.clock.now()),
    });
    if (!user) throw new AuthError('email_taken', 'An account with this email already exists');
    return startSession({ ...deps, db: tx }, user, device);
  });
}
