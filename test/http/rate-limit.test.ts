import argon2 from 'argon2';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ADDRESS_LIMIT } from '../../src/plugins/rate-limit.js';
import { LOGIN_LIMITS } from '../../src/auth/login-throttle.js';
import {
  buildTestApp,
  deleteRedisKeys,
  me,
  PASSWORD,
  problem,
  register,
  snapshot,
  TEST_REDIS_URL,
  testClock,
  testRedisPrefix,
  uniqueEmail,
  YEAR_MS,
  type TestApp,
} from '../helper.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ rateLimit: true });
});
afterAll(() => t.close());
afterEach(() => vi.restoreAllMocks());

/** A fresh client address, so each test has counters of its own. */
const address = () => `10.${[1, 2, 3].map(() => randomBytes(1)[0]).join('.')}`;
const login = (app: FastifyInstance, email: string, password: string, remoteAddress: string) =>
  app.inject({ method: 'POST', url: '/auth/login', payload: { email, password }, remoteAddress });

async function failTimes(app: FastifyInstance, email: string, from: string, times: number) {
  for (let i = 0; i < times; i++) {
    const res = await login(app, email, 'wrong password!', from);
    expect(res.statusCode, `failure ${i + 1} from ${from}`).toBe(401);
  }
}

function expectLimited(res: Awaited<ReturnType<typeof login>>, maxSeconds: number) {
  expect(res.statusCode).toBe(429);
  expect(problem(res).code).toBe('rate_limited');
  const retryAfter = Number(res.headers['retry-after']);
  expect(retryAfter).toBeGreaterThan(0);
  expect(retryAfter).toBeLessThanOrEqual(maxSeconds);
}

describe('per client address, on every /auth route', () => {
  it(`allows ${ADDRESS_LIMIT.max} requests a minute, then answers 429 rate_limited with Retry-After`, async () => {
    const from = address();
    for (let i = 0; i < ADDRESS_LIMIT.max; i++) {
      const res = await t.app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: 'x' }, remoteAddress: from });
      expect(res.statusCode).toBe(401);
    }
    const limited = await t.app.inject({ method: 'POST', url: '/auth/logout', payload: { refreshToken: 'x' }, remoteAddress: from });
    expectLimited(limited, 60);
    // Another address is not affected, and neither is the hot path.
    expect((await t.app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: 'x' }, remoteAddress: address() })).statusCode).toBe(401);
    const { accessToken } = await register(t.app, uniqueEmail(), PASSWORD);
    expect((await me(t.app, accessToken, { remoteAddress: from })).statusCode).toBe(200);
  });
});

describe('failed logins per account', () => {
  it(`refuses an address after ${LOGIN_LIMITS.perAddress.max} failures on one account, before any argon2 work, even with the right password`, async () => {
    const { email } = await register(t.app, uniqueEmail(), PASSWORD);
    const attacker = address();
    await failTimes(t.app, email, attacker, LOGIN_LIMITS.perAddress.max);

    const verify = vi.spyOn(argon2, 'verify');
    const before = await snapshot(t.database);
    expectLimited(await login(t.app, email, PASSWORD, attacker), 15 * 60);
    expect(verify).not.toHaveBeenCalled();
    expect(await snapshot(t.database)).toEqual(before);

    // Elsewhere the owner signs in; after the window the address may try again.
    expect((await login(t.app, email, PASSWORD, address())).statusCode).toBe(200);
    t.clock.advance(15 * 60);
    expect((await login(t.app, email, PASSWORD, attacker)).statusCode).toBe(200);
  });

  it('treats an unknown email exactly like a known one (no enumeration through 429s)', async () => {
    const ghost = uniqueEmail('ghost');
    const from = address();
    await failTimes(t.app, ghost, from, LOGIN_LIMITS.perAddress.max);
    expectLimited(await login(t.app, ghost, PASSWORD, from), 15 * 60);
  });

  it(`caps an account at ${LOGIN_LIMITS.perAccount.max} failures an hour without locking its owner out`, async () => {
    const { email } = await register(t.app, uniqueEmail(), PASSWORD);
    // A distributed attack: many addresses, two failures each, up to the account cap.
    const attackers = Array.from({ length: LOGIN_LIMITS.perAccount.max / 2 }, address);
    for (const from of attackers) await failTimes(t.app, email, from, 2);

    // Past the cap, every address that has failed twice is refused...
    expectLimited(await login(t.app, email, 'another guess', attackers[0]!), 60 * 60);
    expectLimited(await login(t.app, email, PASSWORD, attackers[1]!), 60 * 60);
    // ...a fresh address gets two guesses, no more...
    const fresh = address();
    await failTimes(t.app, email, fresh, 2);
    expectLimited(await login(t.app, email, 'third guess', fresh), 60 * 60);
    // ...and the owner, who has not failed from their address, signs in.
    expect((await login(t.app, email, PASSWORD, address())).statusCode).toBe(200);
    // A mistyped password once is forgiven too.
    const owner = address();
    await failTimes(t.app, email, owner, 1);
    expect((await login(t.app, email, PASSWORD, owner)).statusCode).toBe(200);
  });

  it('a successful login clears that address for that account', async () => {
    const { email } = await register(t.app, uniqueEmail(), PASSWORD);
    const from = address();
    await failTimes(t.app, email, from, LOGIN_LIMITS.perAddress.max - 1);
    expect((await login(t.app, email, PASSWORD, from)).statusCode).toBe(200);
    await failTimes(t.app, email, from, LOGIN_LIMITS.perAddress.max - 1);
  });
});

describe('RATE_LIMIT=off', () => {
  it('disables both limits', async () => {
    const off = await buildTestApp({ rateLimit: false });
    try {
      const from = address();
      const email = uniqueEmail();
      for (let i = 0; i < LOGIN_LIMITS.perAddress.max + 2; i++) {
        expect((await login(off.app, email, 'wrong password!', from)).statusCode).toBe(401);
      }
      for (let i = 0; i < ADDRESS_LIMIT.max + 1; i++) {
        const res = await off.app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: 'x' }, remoteAddress: from });
        expect(res.statusCode).toBe(401);
      }
    } finally {
      await off.close();
    }
  });
});

// Redis meets real time (key expiry); the injected clock must still decide every window, so
// these run with the clock on the default test date and a year off the real one both ways.
describe.skipIf(!TEST_REDIS_URL).each([
  ['the test date', undefined],
  ['a year behind the real date', Date.now() - YEAR_MS],
  ['a year ahead of the real date', Date.now() + YEAR_MS],
])('with REDIS_URL, limits are shared by every instance (clock on %s)', (_when, start) => {
  const redisKeyPrefix = testRedisPrefix();
  let a: TestApp;
  let b: FastifyInstance;
  beforeAll(async () => {
    const clock = testClock(start === undefined ? undefined : Math.floor(start / 1000) * 1000);
    a = await buildTestApp({ rateLimit: true, redisUrl: TEST_REDIS_URL, redisKeyPrefix, clock });
    b = await a.another();
  });
  afterAll(async () => {
    await a?.close();
    await deleteRedisKeys(redisKeyPrefix);
  });

  it('counts failed logins on one instance against the same address on another', async () => {
    const { email } = await register(a.app, uniqueEmail(), PASSWORD);
    const from = address();
    await failTimes(a.app, email, from, LOGIN_LIMITS.perAddress.max);
    expectLimited(await login(b, email, PASSWORD, from), 15 * 60);
    expect((await login(b, email, PASSWORD, address())).statusCode).toBe(200);
  });

  it('opens the address again when the injected clock passes the window, on every instance', async () => {
    const { email } = await register(a.app, uniqueEmail(), PASSWORD);
    const from = address();
    await failTimes(a.app, email, from, LOGIN_LIMITS.perAddress.max);
    a.clock.advance(10 * 60);
    expectLimited(await login(b, email, PASSWORD, from), 5 * 60);
    a.clock.advance(5 * 60);
    expect((await login(b, email, PASSWORD, from)).statusCode).toBe(200);
  });

  it('counts requests per address across instances', async () => {
    const from = address();
    for (let i = 0; i < ADDRESS_LIMIT.max; i++) {
      const app = i % 2 ? b : a.app;
      expect((await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: 'x' }, remoteAddress: from })).statusCode).toBe(401);
    }
    expectLimited(await b.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: 'x' }, remoteAddress: from }), 60);
  });
});

describe('when the Redis store is unreachable', () => {
  it('starts anyway and fails open: sign-in keeps working, argon2 still prices every guess', async () => {
    const down = await buildTestApp({ rateLimit: true, redisUrl: 'redis://127.0.0.1:1' });
    try {
      const { email } = await register(down.app, uniqueEmail(), PASSWORD);
      const from = address();
      await failTimes(down.app, email, from, LOGIN_LIMITS.perAddress.max + 1);
      expect((await login(down.app, email, PASSWORD, from)).statusCode).toBe(200);
    } finally {
      await down.close();
    }
  });
});
