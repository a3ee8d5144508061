import type { Clock } from '../config/clock.js';
import { hashKey, type Counters } from '../rate-limit/counters.js';
import { AuthError } from '../errors.js';
import type { Limiter } from './metrics.js';

/**
 * Failed password checks (sign-in and re-authentication alike). OWASP ASVS 2.2.1 asks for at
 * most 100 failed attempts per account per hour. A hard per-account lock would let anyone
 * lock a victim out by failing on the victim's email, so past the account cap only the
 * addresses the account has signed in from (within a session lifetime) may still try:
 * the owner keeps signing in, and a botnet's fresh addresses get nothing.
 */
export const LOGIN_LIMITS = {
  /** Failures one address may make on one account. */
  perAddress: { max: 10, windowMs: 15 * 60_000 },
  /** Failures an account may take from everywhere together. */
  perAccount: { max: 100, windowMs: 60 * 60_000 },
} as const;

/** One password check that has been counted already; tell it when the password was right. */
export interface Attempt {
  /** Gives the reservation back and clears this address's failures on this account. */
  succeeded(): Promise<void>;
}

export interface LoginThrottle {
  /**
   * Counts an attempt of `address` on `email`'s account before any argon2 work, so a burst
   * of parallel guesses gets at most the limit through. Throws `rate_limited` (with a retry
   * time) when this address may not try this account now. `isKnownAddress` is asked only
   * when the account is over its cap: has this account signed in from this address lately?
   */
  reserve(email: string, address: string, isKnownAddress: () => Promise<boolean>): Promise<Attempt>;
}

/** `refused` hears which cap refused an attempt (the metrics). */
export function createLoginThrottle(counters: Counters, refused?: (limiter: Limiter) => void): LoginThrottle {
  return {
    async reserve(email, address, isKnownAddress) {
      const emailKey = hashKey(email);
      const account = `login:account:${emailKey}`;
      const pair = `login:pair:${emailKey}:${address}`;
      const [byPair, byAccount] = await Promise.all([
        counters.increment(pair, LOGIN_LIMITS.perAddress.windowMs),
        counters.increment(account, LOGIN_LIMITS.perAccount.windowMs),
      ]);
      const giveBack = () => Promise.all([counters.release(pair, byPair.resetAt), counters.release(account, byAccount.resetAt)]);
      const refusedUntil =
        byPair.count > LOGIN_LIMITS.perAddress.max
          ? byPair.resetAt
          : byAccount.count > LOGIN_LIMITS.perAccount.max && !(await isKnownAddress())
            ? byAccount.resetAt
            : undefined;
      if (refusedUntil !== undefined) {
        refused?.(byPair.count > LOGIN_LIMITS.perAddress.max ? 'password_per_address' : 'password_per_account');
        await giveBack();
        throw new AuthError('rate_limited', 'Too many failed password attempts', undefined, refusedUntil);
      }
      return {
        async succeeded() {
          await Promise.all([counters.reset(pair), counters.release(account, byAccount.resetAt)]);
        },
      };
    },
  };
}
