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
  /**
   * Takes back one `increment` (a reservation that turned out not to count), only while the
   * window it was made in, the one ending at `resetAt`, is still open.
   */
  release(key: string, resetAt: number): Promise<void>;
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
    release: async (key, resetAt) => {
      const entry = live(key);
      if (entry && entry.resetAt === resetAt && entry.count > 0) entry.count -= 1;
    },
    reset: async (key) => void windows.delete(key),
  };
}

/**
 * One window in a Redis hash: its count and its end, the end read from the injected clock,
 * so Redis and memory agree on when a window closes whatever clock the caller runs on.
 * The key's PEXPIRE only lets Redis drop it afterwards. One script, so one round trip and
 * no interleaving between instances.
 */
const INCREMENT = `
local ends = tonumber(redis.call('HGET', KEYS[1], 'end'))
local now, window = tonumber(ARGV[1]), tonumber(ARGV[2])
if not ends or ends <= now then
  ends = now + window
  redis.call('HSET', KEYS[1], 'count', 0, 'end', ends)
  redis.call('PEXPIRE', KEYS[1], window)
end
return { redis.call('HINCRBY', KEYS[1], 'count', 1), ends }`;

/** Takes one back, only from the window that ends at ARGV[1] and only down to zero. */
const RELEASE = `
if tonumber(redis.call('HGET', KEYS[1], 'end')) == tonumber(ARGV[1]) and tonumber(redis.call('HGET', KEYS[1], 'count')) > 0 then
  redis.call('HINCRBY', KEYS[1], 'count', -1)
end`;

export function createRedisCounters(redis: Redis, clock: Clock, prefix: string): Counters {
  return {
    async get(key) {
      const [count, ends] = await redis.hmget(prefix + key, 'count', 'end');
      const now = clock.now();
      return ends !== null && Number(ends) > now ? { count: Number(count), resetAt: Number(ends) } : { count: 0, resetAt: now };
    },
    async increment(key, windowMs) {
      const [count, ends] = (await redis.eval(INCREMENT, 1, prefix + key, clock.now(), windowMs)) as [number, number];
      return { count, resetAt: ends };
    },
    release: async (key, resetAt) => void (await redis.eval(RELEASE, 1, prefix + key, String(resetAt))),
    reset: async (key) => void (await redis.del(prefix + key)),
  };
}

/**
 * A store that fails open: when Redis is unreachable, limits are not enforced (argon2 still
 * makes every guess expensive) rather than every sign-in failing. Each failure is reported.
 */
export function failOpen(counters: Counters, clock: Clock, onError: (error: unknown) => void): Counters {
  const none = (): WindowCount => ({ count: 0, resetAt: clock.now() });
  return {
    get: (key) => counters.get(key).catch((error) => (onError(error), none())),
    increment: (key, windowMs) => counters.increment(key, windowMs).catch((error) => (onError(error), none())),
    release: (key, resetAt) => counters.release(key, resetAt).catch(onError),
    reset: (key) => counters.reset(key).catch(onError),
  };
}
