import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { createMemoryCounters, createRedisCounters, failOpen, type Counters } from '../../src/rate-limit/counters.js';
import { deleteRedisKeys, TEST_REDIS_URL, testClock, testRedisPrefix, YEAR_MS, type TestClock } from '../helper.js';

const prefix = testRedisPrefix();
const redis = TEST_REDIS_URL ? new Redis(TEST_REDIS_URL) : undefined;
afterAll(async () => {
  if (!redis) return;
  await deleteRedisKeys(prefix);
  redis.disconnect();
});

const stores: [string, (clock: TestClock) => Counters][] = [
  ['memory', (clock) => createMemoryCounters(clock)],
  ...(redis ? [['Redis', (clock: TestClock) => createRedisCounters(redis, clock, prefix)] as [string, (clock: TestClock) => Counters]] : []),
];
// The injected clock decides every window, whatever the real date: a clock a year behind or
// ahead of the machine's must see the same windows as one on time.
const starts: [string, number][] = [
  ['a clock on time', Math.floor(Date.now() / 1000) * 1000],
  ['a clock a year behind', Math.floor(Date.now() / 1000) * 1000 - YEAR_MS],
  ['a clock a year ahead', Math.floor(Date.now() / 1000) * 1000 + YEAR_MS],
];
let n = 0;

describe.each(stores)('%s counters', (_name, create) => {
  describe.each(starts)('on %s', (_when, start) => {
    const setup = () => {
      const clock = testClock(start);
      return { clock, counters: create(clock), key: `k${++n}` };
    };

    it('opens a window of the given length on the injected clock and counts in it', async () => {
      const { clock, counters, key } = setup();
      expect(await counters.get(key)).toEqual({ count: 0, resetAt: start });
      expect(await counters.increment(key, 60_000)).toEqual({ count: 1, resetAt: start + 60_000 });
      clock.advance(59);
      expect(await counters.increment(key, 60_000)).toEqual({ count: 2, resetAt: start + 60_000 });
      expect(await counters.get(key)).toEqual({ count: 2, resetAt: start + 60_000 });
    });

    it('closes the window when the injected clock reaches its end, and the next one opens from there', async () => {
      const { clock, counters, key } = setup();
      await counters.increment(key, 60_000);
      await counters.increment(key, 60_000);
      clock.advance(60);
      expect(await counters.get(key)).toEqual({ count: 0, resetAt: start + 60_000 });
      expect(await counters.increment(key, 60_000)).toEqual({ count: 1, resetAt: start + 120_000 });
    });

    it('takes back one increment from the window it was made in, never below zero', async () => {
      const { counters, key } = setup();
      await counters.increment(key, 60_000);
      const second = await counters.increment(key, 60_000);
      await counters.release(key, second.resetAt);
      expect(await counters.get(key)).toEqual({ count: 1, resetAt: start + 60_000 });
      await counters.release(key, second.resetAt);
      await counters.release(key, second.resetAt);
      expect(await counters.get(key)).toEqual({ count: 0, resetAt: start + 60_000 });
    });

    it('does not take back from a later window than the one the increment was made in', async () => {
      const { clock, counters, key } = setup();
      const early = await counters.increment(key, 60_000);
      clock.advance(60);
      await counters.increment(key, 60_000);
      await counters.release(key, early.resetAt);
      expect(await counters.get(key)).toEqual({ count: 1, resetAt: start + 120_000 });
    });

    it('forgets a key on reset, and keys never share a count', async () => {
      const { counters, key } = setup();
      await counters.increment(key, 60_000);
      await counters.increment(`${key}-other`, 60_000);
      await counters.reset(key);
      expect((await counters.get(key)).count).toBe(0);
      expect((await counters.get(`${key}-other`)).count).toBe(1);
    });
  });
});

describe('failOpen', () => {
  it('answers "no count, no window" on the injected clock when the store fails, and reports it', async () => {
    const clock = testClock(Date.now() + YEAR_MS);
    const broken: Counters = {
      get: async () => Promise.reject(new Error('down')),
      increment: async () => Promise.reject(new Error('down')),
      release: async () => Promise.reject(new Error('down')),
      reset: async () => Promise.reject(new Error('down')),
    };
    const errors: unknown[] = [];
    const counters = failOpen(broken, clock, (error) => errors.push(error));
    expect(await counters.get('k')).toEqual({ count: 0, resetAt: clock.now() });
    expect(await counters.increment('k', 1000)).toEqual({ count: 0, resetAt: clock.now() });
    await counters.release('k', clock.now());
    await counters.reset('k');
    expect(errors).toHaveLength(4);
  });
});
