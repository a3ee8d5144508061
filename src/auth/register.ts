import { randomUUID } from 'node:crypto';
import { recordAuthEvent } from '../db/auth-events.js';
import { createUsersRepository } from '../db/users.js';
import { AuthError } from '../errors.js';
import { normalizeCredentials } from './credentials.js';
import type { AuthDeps, DeviceInfo, SignedIn } from './deps.js';
import { deviceFields } from './security-log.js';
import { startSession } from './session-tokens.js';

/** Creates the account, its first session and its `register` event in one transaction. */
export async function register(
  deps: AuthDeps,
  input: { email: string; password: string },
  device: DeviceInfo,
): Promise<SignedIn> {
  const { email, password } = normalizeCredentials(input);
  const passwordHash = await deps.passwords.hash(password);
  return deps.db.transaction(async (tx) => {
    const now = new Date(deps.clock.now());
    const user = await createUsersRepository(tx).insert({
      id: randomUUID(),
      email,
      passwordHash,
      now,
    });
    if (!user) throw new AuthError('email_taken', 'An account with this email already exists');
    const signedIn = await startSession({ ...deps, db: tx }, user, device);
    await recordAuthEvent(tx, { userId: user.id, type: 'register', sessionId: signedIn.sessionId, ...deviceFields(device), at: now });
    return signedIn;
  });
}
