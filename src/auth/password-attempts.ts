import { createSignInAddressesRepository } from '../db/sign-in-addresses.js';
import type { AuthDeps, DeviceInfo } from './deps.js';
import { rateLimitKey } from '../rate-limit/address-key.js';
import type { Attempt } from './login-throttle.js';

/**
 * Counts one password check (a sign-in or a re-authentication) against the login limits
 * before argon2 runs; throws `rate_limited` when the limits refuse it. Past the account's
 * cap, the known-address evidence is read: has this account signed in from this address
 * within a session lifetime? `undefined` when RATE_LIMIT=off.
 */
export async function reservePasswordAttempt(
  deps: AuthDeps,
  account: { email: string; userId?: string },
  device: DeviceInfo,
): Promise<Attempt | undefined> {
  if (!deps.loginThrottle) return undefined;
  const address = device.ip === null ? 'unknown' : rateLimitKey(device.ip);
  const since = new Date(deps.clock.now() - deps.refreshTtl * 1000);
  const owner = account.userId === undefined ? { email: account.email } : { userId: account.userId };
  return deps.loginThrottle.reserve(account.email, address, () =>
    createSignInAddressesRepository(deps.db).isKnown(owner, address, since),
  );
}
