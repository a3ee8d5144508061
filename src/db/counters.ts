import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Clock } from '../config/clock.js';

export interface WindowCount {
  count: number;
  /** When the window ends, in ms since the epoch (now when there is none). */
  resetAt: number;
}

/** Fixed-window counters for rate limits: in memory for one instance, Redis for many. */
export interface Counters {
  get(key: string): Promise<WindowCount>;
  /** Adds one, opening a window of `windowMs` when none is open. */
  increment(key: string, windowMs: number): Promise<WindowCount>;
  reset(key: string): Promise<void>;
}

/** Keys name accounts by a hash, so the store never holds an email address. */
export const hashKey = (value: string) => createHash('sha256').update(value).digest('base64url').slice(0, 22);

/** Entries the memory store keeps at most; the oldest go first (an attacker spraying emails). */
const MEMORY_LIMIT = 100_000;

export function createMemoryCounters(clock: Clock): Counters {
  const windows = new Map<string, WindowCount>();
  const live = (key: string) => {
    const entry = windows.get(key);
    if (entry && entry.resetAt <= clock.now()) windows.delete(key);
    return entry && entry.resetAt > clock.now() ? entry : undefined;
  };
  return {
    get: async (key) => live(key) ?? { count: 0, resetAt: clock.now() },
    increment: async (key, windowMs) => {
      const entry = live(key) ?? { count: 0, resetAt: clock.now() + windowMs };
      entry.count += 1;
      windows.delete(key);
      windows.set(key, entry);
      if (windows.size > MEMORY_LIMIT) windows.delete(windows.keys().next().value!);
      return { ...entry };
    },
    reset: async (key) => void windows.delete(key),
  };
}

export function createRedisCounters(redis: Redis, prefix = 'versioned-auth:'): Counters {
  const now = () => Date.now();
  const read = (results: [Error | null, unknown][] | null, countAt: number, ttlAt: number): WindowCount => {
    const count = Number(results?.[countAt]?.[1] ?? 0);
    const ttl = Number(results?.[ttlAt]?.[1] ?? -2);
    return { count, resetAt: now() + Math.max(0, ttl) };
  };
  return {
    get: async (key) => read(await redis.multi().get(prefix + key).pttl(prefix + key).exec(), 0, 1),
    increment: async (key, windowMs) =>
      read(
        // SET NX opens the window once; INCR counts in it; both in one transaction.
        await redis.multi().set(prefix + key, 0, 'PX', windowMs, 'NX').incr(prefix + key).pttl(prefix + key).exec(),
        1,
        2,
      ),
    reset: async (key) => void (await redis.del(prefix + key)),
  };
}

/**
 * A store that fails open: when Redis is unreachable, limits are not enforced (argon2 still
 * makes every guess expensive) rather than every sign-in failing. Each failure is reported.
 */
export function failOpen(counters: Counters, onError: (error: unknown) => void): Counters {
  const none = (): WindowCount => ({ count: 0, resetAt: Date.now() });
  return {
    get: (key) => counters.get(key).catch((error) => (onError(error), none())),
    increment: (key, windowMs) => counters.increment(key, windowMs).catch((error) => (onError(error), none())),
    reset: (key) => counters.reset(key).catch(onError),
  };
}
