import type { Clock } from '../config/clock.js';
import { hashKey, type Counters } from '../rate-limit/counters.js';
import { AuthError } from '../errors.js';

/**
 * Failed-login limits. OWASP ASVS 2.2.1 asks for at most 100 failed attempts per account
 * per hour. A hard per-account lock would let anyone lock a victim out by failing on the
 * victim's email, so the account cap only stops addresses that have themselves failed on
 * the account: the victim, from an address that has not failed twice this window, still
 * signs in; an attacker past the cap needs a fresh address for every two guesses.
 */
export const LOGIN_LIMITS = {
  /** Failures one address may make on one account. */
  perAddress: { max: 10, windowMs: 15 * 60_000 },
  /** Failures an account may take from everywhere together. */
  perAccount: { max: 100, windowMs: 60 * 60_000 },
  /** Past the account cap, addresses with this many failures on it are refused. */
  pastCapAddressFailures: 2,
} as const;

export interface LoginThrottle {
  /** Throws `rate_limited` (with a retry delay) when this address may not try this account now. */
  check(email: string, address: string): Promise<void>;
  failed(email: string, address: string): Promise<void>;
  succeeded(email: string, address: string): Promise<void>;
}

export function createLoginThrottle(counters: Counters, clock: Clock): LoginThrottle {
  const keys = (email: string, address: string) => {
    const account = hashKey(email);
    return { account: `login:account:${account}`, pair: `login:pair:${account}:${address}` };
  };
  const refuse = (resetAt: number) => {
    return new AuthError('rate_limited', 'Too many failed sign-in attempts', undefined, resetAt);
  };
  return {
    async check(email, address) {
      const { account, pair } = keys(email, address);
      const [byPair, byAccount] = await Promise.all([counters.get(pair), counters.get(account)]);
      if (byPair.count >= LOGIN_LIMITS.perAddress.max) throw refuse(byPair.resetAt);
      if (byAccount.count >= LOGIN_LIMITS.perAccount.max && byPair.count >= LOGIN_LIMITS.pastCapAddressFailures) {
        throw refuse(Math.min(byPair.resetAt, byAccount.resetAt));
      }
    },
    async failed(email, address) {
      const { account, pair } = keys(email, address);
      await Promise.all([
        counters.increment(pair, LOGIN_LIMITS.perAddress.windowMs),
        counters.increment(account, LOGIN_LIMITS.perAccount.windowMs),
      ]);
    },
    async succeeded(email, address) {
      await counters.reset(keys(email, address).pair);
    },
  };
}
