import argon2 from 'argon2';
import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ADDRESS_LIMIT } from '../../src/plugins/rate-limit.js';
import { LOGIN_LIMITS } from '../../src/auth/login-throttle.js';
import {
  buildTestApp,
  deleteRedisKeys,
  expectOnlyNewEvents,
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

/**
 * These tests are about counting, not about argon2's cost, and make hundreds of guesses:
 * a cheap hash keeps them quick (the limits are checked before argon2 runs either way).
 */
const passwordHashing = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ rateLimit: true, passwordHashing });
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
    const { email, user } = await register(t.app, uniqueEmail(), PASSWORD);
    const attacker = address();
    await failTimes(t.app, email, attacker, LOGIN_LIMITS.perAddress.max);

    const verify = vi.spyOn(argon2, 'verify');
    const before = await snapshot(t.database);
    expectLimited(await login(t.app, email, PASSWORD, attacker), 15 * 60);
    expect(verify).not.toHaveBeenCalled();
    expectOnlyNewEvents(before, await snapshot(t.database), [{ userId: user.id, type: 'login', code: 'rate_limited' }]);

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

  it('a successful login clears that address for that account', async () => {
    const { email } = await register(t.app, uniqueEmail(), PASSWORD);
    const from = address();
    await failTimes(t.app, email, from, LOGIN_LIMITS.perAddress.max - 1);
    expect((await login(t.app, email, PASSWORD, from)).statusCode).toBe(200);
    await failTimes(t.app, email, from, LOGIN_LIMITS.perAddress.max - 1);
  });
});

/** Fills the account's hourly cap from fresh addresses, two failures each. */
async function fillAccountCap(app: FastifyInstance, email: string) {
  for (let i = 0; i < LOGIN_LIMITS.perAccount.max / 2; i++) await failTimes(app, email, address(), 2);
}

describe('IPv6 clients', () => {
  it('counts failed logins from one IPv6 /64 as one address', async () => {
    const { email } = await register(t.app, uniqueEmail(), PASSWORD);
    const prefix = `2001:db8:${randomBytes(2).toString('hex')}:1`;
    for (let i = 0; i < LOGIN_LIMITS.perAddress.max; i++) {
      expect((await login(t.app, email, 'wrong password!', `${prefix}::${(i + 1).toString(16)}`)).statusCode).toBe(401);
    }
    expectLimited(await login(t.app, email, PASSWORD, `${prefix}:ffff::1`), 15 * 60);
  });

  it('past the account cap, knows the /64 the owner signed in from, not only the one address', async () => {
    const prefix = `2001:db8:${randomBytes(2).toString('hex')}:2`;
    const { email } = await register(t.app, uniqueEmail(), PASSWORD);
    expect((await login(t.app, email, PASSWORD, `${prefix}::1`)).statusCode).toBe(200);
    await fillAccountCap(t.app, email);
    // The same home network with a new privacy address.
    expect((await login(t.app, email, PASSWORD, `${prefix}:abcd:1234:5678:9abc`)).statusCode).toBe(200);
    expectLimited(await login(t.app, email, PASSWORD, `2001:db8:${randomBytes(2).toString('hex')}:3::1`), 60 * 60);
  });
});

describe(`past an account's cap of ${LOGIN_LIMITS.perAccount.max} failures an hour`, () => {
  it('refuses every address the account has not signed in from, before any argon2 work, writing nothing but the security log', async () => {
    const { email, user } = await register(t.app, uniqueEmail(), PASSWORD);
    await fillAccountCap(t.app, email);
    const verify = vi.spyOn(argon2, 'verify');
    const before = await snapshot(t.database);
    // A botnet's fresh address gets no guess at all, not even with the right password.
    for (const password of ['first guess!', PASSWORD]) expectLimited(await login(t.app, email, password, address()), 60 * 60);
    expect(verify).not.toHaveBeenCalled();
    const refused = { userId: user.id, type: 'login' as const, code: 'rate_limited' };
    expectOnlyNewEvents(before, await snapshot(t.database), [refused, refused]);
  });

  it('still lets the owner in from an address the account signed in from, even after a typo', async () => {
    const owner = address();
    const { email } = await register(t.app, uniqueEmail(), PASSWORD);
    expect((await login(t.app, email, PASSWORD, owner)).statusCode).toBe(200);
    await fillAccountCap(t.app, email);
    await failTimes(t.app, email, owner, 1);
    expect((await login(t.app, email, PASSWORD, owner)).statusCode).toBe(200);
    // Registering is a sign-in too: register() signs up from 127.0.0.1.
    expect((await login(t.app, email, PASSWORD, '127.0.0.1')).statusCode).toBe(200);
  });

  it('keeps the evidence when every session is revoked (it is not read from sessions)', async () => {
    const owner = address();
    const { email } = await register(t.app, uniqueEmail(), PASSWORD);
    const signedIn = (await login(t.app, email, PASSWORD, owner)).json();
    expect((await t.app.inject({ method: 'POST', url: '/auth/logout-all', headers: { authorization: `Bearer ${signedIn.accessToken}` } })).statusCode).toBe(200);
    await fillAccountCap(t.app, email);
    expect((await login(t.app, email, PASSWORD, owner)).statusCode).toBe(200);
  });

  it('forgets an address that has not signed in for longer than REFRESH_TOKEN_TTL', async () => {
    const [recent, stale] = [address(), address()];
    const { email } = await register(t.app, uniqueEmail(), PASSWORD);
    expect((await login(t.app, email, PASSWORD, stale)).statusCode).toBe(200);
    t.clock.advance(t.config.jwt.refreshTtl - 60);
    expect((await login(t.app, email, PASSWORD, recent)).statusCode).toBe(200);
    t.clock.advance(120);
    await fillAccountCap(t.app, email);
    expectLimited(await login(t.app, email, PASSWORD, stale), 60 * 60);
    expect((await login(t.app, email, PASSWORD, recent)).statusCode).toBe(200);
  });

  it('answers an unknown email past its cap exactly like a known one', async () => {
    const ghost = uniqueEmail('ghost');
    await fillAccountCap(t.app, ghost);
    expectLimited(await login(t.app, ghost, PASSWORD, address()), 60 * 60);
    expectLimited(await login(t.app, ghost, PASSWORD, '127.0.0.1'), 60 * 60);
  });

  it('opens again for everyone when the hour is over', async () => {
    const { email } = await register(t.app, uniqueEmail(), PASSWORD);
    await fillAccountCap(t.app, email);
    const fresh = address();
    expectLimited(await login(t.app, email, PASSWORD, fresh), 60 * 60);
    t.clock.advance(60 * 60);
    expect((await login(t.app, email, PASSWORD, fresh)).statusCode).toBe(200);
  });
});

describe('a burst of parallel guesses', () => {
  it(`gets at most ${LOGIN_LIMITS.perAddress.max} password checks through, however many arrive at once`, async () => {
    const { email } = await register(t.app, uniqueEmail(), PASSWORD);
    const from = address();
    const verify = vi.spyOn(argon2, 'verify');
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => login(t.app, email, `wrong guess ${i}!`, from)));
    const statuses = answers.map((res) => res.statusCode).sort();
    expect(statuses.filter((status) => status === 401)).toHaveLength(LOGIN_LIMITS.perAddress.max);
    expect(statuses.filter((status) => status === 429)).toHaveLength(40 - LOGIN_LIMITS.perAddress.max);
    expect(verify).toHaveBeenCalledTimes(LOGIN_LIMITS.perAddress.max);
  });

  it('counts only the guesses that were checked: refused ones do not fill the account cap', async () => {
    const { email } = await register(t.app, uniqueEmail(), PASSWORD);
    // 11 addresses × 20 parallel guesses: 110 checked at most, but each address stops at 10.
    const addresses = Array.from({ length: 9 }, address);
    await Promise.all(addresses.map((from) => Promise.all(Array.from({ length: 20 }, () => login(t.app, email, 'wrong guess!', from)))));
    // 90 failures counted, not 180: a fresh address still gets its guesses.
    await failTimes(t.app, email, address(), LOGIN_LIMITS.perAddress.max);
  });
});

describe('re-authentication (POST /auth/password, DELETE /me) counts against the same limits', () => {
  const changePassword = (accessToken: string, currentPassword: string, from: string) =>
    t.app.inject({
      method: 'POST',
      url: '/auth/password',
      headers: { authorization: `Bearer ${accessToken}` },
      payload: { currentPassword, newPassword: 'a brand new password' },
      remoteAddress: from,
    });
  const deleteAccount = (accessToken: string, password: string, from: string) =>
    t.app.inject({ method: 'DELETE', url: '/me', headers: { authorization: `Bearer ${accessToken}` }, payload: { password }, remoteAddress: from });

  it.each([
    ['POST /auth/password', changePassword],
    ['DELETE /me', deleteAccount],
  ])(`%s: a stolen access token gets ${LOGIN_LIMITS.perAddress.max} wrong guesses, then 429 even with the right password, nothing written`, async (_route, send) => {
    const { email, accessToken } = await register(t.app, uniqueEmail(), PASSWORD);
    const thief = address();
    for (let i = 0; i < LOGIN_LIMITS.perAddress.max; i++) {
      expect((await send(accessToken, `wrong guess ${i}!`, thief)).statusCode, `guess ${i + 1}`).toBe(401);
    }
    const verify = vi.spyOn(argon2, 'verify');
    const before = await snapshot(t.database);
    expectLimited(await send(accessToken, PASSWORD, thief), 15 * 60);
    expect(verify).not.toHaveBeenCalled();
    expect(await snapshot(t.database)).toEqual(before);
    // The login form refuses the same address too: one budget, wherever the password is typed.
    expectLimited(await login(t.app, email, PASSWORD, thief), 15 * 60);
  });

  it('refuses re-authentication once the login form has used up the budget of that address', async () => {
    const { email, accessToken } = await register(t.app, uniqueEmail(), PASSWORD);
    const from = address();
    await failTimes(t.app, email, from, LOGIN_LIMITS.perAddress.max);
    expectLimited(await changePassword(accessToken, PASSWORD, from), 15 * 60);
    expectLimited(await deleteAccount(accessToken, PASSWORD, from), 15 * 60);
  });

  it('refuses re-authentication from an unknown address once the account is over its cap', async () => {
    const { email, accessToken } = await register(t.app, uniqueEmail(), PASSWORD);
    await fillAccountCap(t.app, email);
    expectLimited(await changePassword(accessToken, PASSWORD, address()), 60 * 60);
    // From where the account signed up, the owner still changes the password.
    expect((await changePassword(accessToken, PASSWORD, '127.0.0.1')).statusCode).toBe(200);
  });

  it('a right password clears the failures of that address', async () => {
    const { accessToken } = await register(t.app, uniqueEmail(), PASSWORD);
    const from = address();
    for (let i = 0; i < LOGIN_LIMITS.perAddress.max - 1; i++) expect((await deleteAccount(accessToken, 'wrong guess!', from)).statusCode).toBe(401);
    const changed = await changePassword(accessToken, PASSWORD, from);
    expect(changed.statusCode).toBe(200);
    const { accessToken: next } = changed.json();
    for (let i = 0; i < LOGIN_LIMITS.perAddress.max - 1; i++) expect((await deleteAccount(next, 'wrong guess!', from)).statusCode).toBe(401);
  });
});

describe('RATE_LIMIT=off', () => {
  it('disables both limits', async () => {
    const off = await buildTestApp({ rateLimit: false, passwordHashing });
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
    a = await buildTestApp({ rateLimit: true, redisUrl: TEST_REDIS_URL, redisKeyPrefix, clock, passwordHashing });
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

  it('reserves attempts in Redis: a burst split over two instances gets at most the limit through', async () => {
    const { email } = await register(a.app, uniqueEmail(), PASSWORD);
    const from = address();
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => login(i % 2 ? b : a.app, email, 'wrong guess!', from)));
    expect(answers.filter((res) => res.statusCode === 401)).toHaveLength(LOGIN_LIMITS.perAddress.max);
    expect(answers.filter((res) => res.statusCode === 429)).toHaveLength(30 - LOGIN_LIMITS.perAddress.max);
  });

  it('past the account cap, refuses a fresh address on every instance and lets a known one in', async () => {
    const owner = address();
    const { email } = await register(a.app, uniqueEmail(), PASSWORD);
    expect((await login(b, email, PASSWORD, owner)).statusCode).toBe(200);
    for (let i = 0; i < LOGIN_LIMITS.perAccount.max / 2; i++) await failTimes(i % 2 ? b : a.app, email, address(), 2);
    expectLimited(await login(a.app, email, PASSWORD, address()), 60 * 60);
    expect((await login(a.app, email, PASSWORD, owner)).statusCode).toBe(200);
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
    const down = await buildTestApp({ rateLimit: true, redisUrl: 'redis://127.0.0.1:1', passwordHashing });
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
