import { randomUUID } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { desc, eq, isNull, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordAuthEvent } from '../../src/db/auth-events.js';
import { authEvents, type AuthEvent } from '../../src/db/schema.js';
import {
  bearer,
  buildTestApp,
  expectRefusedWithoutWrites,
  PASSWORD,
  problem,
  snapshot,
  uniqueEmail,
  type TestApp,
  type TokenBody,
} from '../helper.js';
import { LAPTOP, PHONE, TABLET, signed, type Device, type Signed } from '../support/devices.js';

/** The log is about what was recorded, not about argon2's cost: a cheap hash keeps the file quick. */
const passwordHashing = { memoryCost: 1024, timeCost: 1, parallelism: 1 };

let t: TestApp;
/** Another instance on the same database, checking access tokens by signature alone: what reaches the use cases. */
let lax: FastifyInstance;
beforeAll(async () => {
  t = await buildTestApp({ passwordHashing });
  lax = await t.another({ config: { ...t.config, accessTokenRevocation: 'off' } });
});
afterAll(() => t.close());


interface Listed {
  id: string;
  type: string;
  at: string;
  sessionId: string | null;
  ip: string | null;
  userAgent: string | null;
  code?: string;
}

function send(method: 'GET' | 'POST' | 'DELETE', url: string, device: Device, options: { token?: string; payload?: object; app?: FastifyInstance } = {}) {
  return (options.app ?? t.app).inject({
    method,
    url,
    headers: { 'user-agent': device.userAgent, ...(options.token ? bearer(options.token) : {}) },
    remoteAddress: device.ip,
    ...(options.payload ? { payload: options.payload } : {}),
  });
}

const registerOn = async (device: Device = LAPTOP, email = uniqueEmail('log')) =>
  signed(await send('POST', '/auth/register', device, { payload: { email, password: PASSWORD } }), email, 201);
const loginOn = async (email: string, device: Device = PHONE) =>
  signed(await send('POST', '/auth/login', device, { payload: { email, password: PASSWORD } }), email, 200);

const listEvents = (token: string, query = '') => t.app.inject({ method: 'GET', url: `/auth/events${query}`, headers: bearer(token) });

async function page(token: string, query = ''): Promise<{ events: Listed[]; next: string | null }> {
  const res = await listEvents(token, query);
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

/** Every event the database holds, oldest first by insertion where `at` ties do not say. */
const allEvents = (): Promise<AuthEvent[]> => t.database.db.select().from(authEvents);
const rowsOf = (userId: string) => t.database.db.select().from(authEvents).where(eq(authEvents.userId, userId));

/** What the log shows of an event, as the test expects it. */
const shown = (type: string, device: Device, sessionId: string | null, code?: string) => ({
  type,
  sessionId,
  ip: device.ip,
  userAgent: device.userAgent,
  ...(code ? { code } : {}),
});
const essentials = ({ type, sessionId, ip, userAgent, code }: Listed) => ({ type, sessionId, ip, userAgent, ...(code ? { code } : {}) });

describe('the events the routes write', () => {
  it('records every kind of event with its session, address and user agent, newest first, and nothing for a plain refresh', async () => {
    const step = () => t.clock.advance(1);
    const laptop = await registerOn(LAPTOP);
    step();
    const phone = await loginOn(laptop.email, PHONE);
    step();
    const wrong = await send('POST', '/auth/login', TABLET, { payload: { email: laptop.email, password: 'not the password' } });
    expect(wrong.statusCode).toBe(401);
    step();
    // A rotation writes nothing; the spent token presented after the grace is theft.
    const rotated = await send('POST', '/auth/refresh', PHONE, { payload: { refreshToken: phone.refreshToken } });
    expect(rotated.statusCode).toBe(200);
    t.clock.advance(t.config.refreshReuseGrace + 1);
    const reused = await send('POST', '/auth/refresh', TABLET, { payload: { refreshToken: phone.refreshToken } });
    expect(problem(reused).code).toBe('refresh_token_reused');
    step();
    const tablet = await loginOn(laptop.email, TABLET);
    step();
    expect((await send('DELETE', `/auth/sessions/${tablet.sid}`, LAPTOP, { token: laptop.accessToken })).statusCode).toBe(204);
    step();
    await loginOn(laptop.email, PHONE);
    step();
    expect((await send('POST', '/auth/logout-others', LAPTOP, { token: laptop.accessToken })).json()).toEqual({ revokedSessions: 1 });
    step();
    expect((await send('POST', '/auth/logout', LAPTOP, { payload: { refreshToken: laptop.refreshToken } })).statusCode).toBe(204);
    step();
    const phone2 = await loginOn(laptop.email, PHONE);
    step();
    const changed = signed(
      await send('POST', '/auth/password', PHONE, { token: phone2.accessToken, payload: { currentPassword: PASSWORD, newPassword: PASSWORD } }),
      laptop.email,
      200,
    );
    step();
    // A Bearer logout of its own session.
    const tablet2 = await loginOn(laptop.email, TABLET);
    step();
    expect((await send('POST', '/auth/logout', TABLET, { token: tablet2.accessToken })).statusCode).toBe(204);
    step();
    expect((await send('POST', '/auth/logout-all', PHONE, { token: changed.accessToken })).statusCode).toBe(200);
    step();
    const last = await loginOn(laptop.email, LAPTOP);

    const expected = [
      shown('login', LAPTOP, last.sid),
      shown('logout_all', PHONE, changed.sid),
      shown('logout', TABLET, tablet2.sid),
      shown('login', TABLET, tablet2.sid),
      shown('password_changed', PHONE, changed.sid),
      shown('login', PHONE, phone2.sid),
      shown('logout', LAPTOP, laptop.sid),
      shown('logout_others', LAPTOP, laptop.sid),
      shown('login', PHONE, expect.any(String) as unknown as string),
      shown('session_revoked', LAPTOP, tablet.sid),
      shown('login', TABLET, tablet.sid),
      shown('refresh_reused', TABLET, phone.sid),
      shown('login', TABLET, null, 'invalid_credentials'),
      shown('login', PHONE, phone.sid),
      shown('register', LAPTOP, laptop.sid),
    ];
    const { events, next } = await page(last.accessToken, '?limit=100');
    expect(next).toBeNull();
    expect(events.map(essentials)).toEqual(expected);
    // The changed password's event names the session it opened, not the one that asked.
    expect(changed.sid).not.toBe(phone2.sid);
    // `at` is the injected clock's, newest first.
    expect(events[0]!.at).toBe(new Date(t.clock.now()).toISOString());
    expect(events.map((e) => e.at)).toEqual([...events.map((e) => e.at)].sort().reverse());

    // Account deletion: recorded, kept after the user is gone, and no row ever holds the email.
    step();
    const deleted = await send('DELETE', '/me', LAPTOP, { token: last.accessToken, payload: { password: PASSWORD } });
    expect(deleted.statusCode).toBe(204);
    const rows = await rowsOf(laptop.user.id);
    expect(rows).toHaveLength(expected.length + 1);
    const [gone] = await t.database.db.select().from(authEvents).where(eq(authEvents.userId, laptop.user.id)).orderBy(desc(authEvents.at)).limit(1);
    expect(gone).toMatchObject({ type: 'account_deleted', sessionId: last.sid, ip: LAPTOP.ip, userAgent: LAPTOP.userAgent, code: null });
    expect(gone!.at.getTime()).toBe(t.clock.now());
    expect(JSON.stringify(await allEvents()).toLowerCase()).not.toContain(laptop.email.toLowerCase());
  });

  it('answers each event with exactly the contract keys, `code` only when it has one, and Cache-Control: no-store', async () => {
    const user = await registerOn(LAPTOP);
    t.clock.advance(1);
    await send('POST', '/auth/login', PHONE, { payload: { email: user.email, password: 'not the password' } });
    const res = await listEvents(user.accessToken);
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = res.json();
    expect(Object.keys(body)).toEqual(['events', 'next']);
    const [failure, registered] = body.events as Listed[];
    expect(Object.keys(failure!).sort()).toEqual(['at', 'code', 'id', 'ip', 'sessionId', 'type', 'userAgent']);
    expect(Object.keys(registered!).sort()).toEqual(['at', 'id', 'ip', 'sessionId', 'type', 'userAgent']);
    expect(failure).toMatchObject({ type: 'login', code: 'invalid_credentials', sessionId: null });
  });
});

describe('nothing is recorded for a change that did not happen', () => {
  type Act = (user: Signed, other: Signed) => Promise<LightMyRequestResponse>;
  const logout: Act = (u) => send('POST', '/auth/logout', LAPTOP, { payload: { refreshToken: u.refreshToken } });
  const logoutAll: Act = (u) => send('POST', '/auth/logout-all', LAPTOP, { token: u.accessToken });
  const refresh: Act = (u) => send('POST', '/auth/refresh', LAPTOP, { payload: { refreshToken: u.refreshToken } });
  const nothing: Act = async () => ({}) as LightMyRequestResponse;

  it.each<[string, Act, Act, number]>([
    ['a second logout of the same session', logout, logout, 204],
    ['logout-all with a token older than the last one', logoutAll, logoutAll, 401],
    ['the same, past a server that checks signatures only', logoutAll, (u) => send('POST', '/auth/logout-all', LAPTOP, { token: u.accessToken, app: lax }), 401],
    ['logout-others with no other session', (_u, other) => logout(other, other), (u) => send('POST', '/auth/logout-others', LAPTOP, { token: u.accessToken }), 200],
    ['revoking an unknown session', nothing, (u) => send('DELETE', `/auth/sessions/${randomUUID()}`, LAPTOP, { token: u.accessToken }), 404],
    ['revoking a session already signed out', (_u, other) => logout(other, other), (u, other) => send('DELETE', `/auth/sessions/${other.sid}`, LAPTOP, { token: u.accessToken }), 404],
    ['deleting the account with a wrong password', nothing, (u) => send('DELETE', '/me', LAPTOP, { token: u.accessToken, payload: { password: 'not the password' } }), 401],
    ['changing the password with a wrong one', nothing, (u) =>
      send('POST', '/auth/password', LAPTOP, { token: u.accessToken, payload: { currentPassword: 'not the password', newPassword: 'a new passphrase' } }), 401],
    ['registering a taken email', nothing, (u) => send('POST', '/auth/register', LAPTOP, { payload: { email: u.email, password: PASSWORD } }), 409],
    ['a spent refresh token presented within the grace', refresh, refresh, 200],
    ['a refresh token of a session signed out', logout, refresh, 401],
  ])('%s', async (_name, setup, act, status) => {
    const user = await registerOn(LAPTOP);
    const other = await loginOn(user.email, PHONE);
    await setup(user, other);
    const before = await allEvents();
    const res = await act(user, other);
    expect(res.statusCode, res.body).toBe(status);
    expect(await allEvents()).toEqual(before);
  });
});

describe('an event and its change commit together', () => {
  /** Makes every insert of an event of `type` fail, as a broken disk or a constraint would. */
  async function failing<T>(type: string, work: () => Promise<T>): Promise<T> {
    const db = t.database.db;
    await db.execute(sql.raw(`create or replace function fail_auth_event() returns trigger language plpgsql as $$ begin raise exception 'forced failure'; end $$`));
    await db.execute(sql.raw(`create trigger fail_auth_event before insert on auth_events for each row when (new.type = '${type}') execute function fail_auth_event()`));
    try {
      return await work();
    } finally {
      await db.execute(sql.raw('drop trigger fail_auth_event on auth_events'));
    }
  }

  it.each<[string, () => Promise<() => Promise<LightMyRequestResponse>>]>([
    ['register', async () => () => send('POST', '/auth/register', LAPTOP, { payload: { email: uniqueEmail('atomic'), password: PASSWORD } })],
    ['login', async () => {
      const u = await registerOn();
      return () => send('POST', '/auth/login', PHONE, { payload: { email: u.email, password: PASSWORD } });
    }],
    ['refresh_reused', async () => {
      const u = await registerOn();
      expect((await send('POST', '/auth/refresh', LAPTOP, { payload: { refreshToken: u.refreshToken } })).statusCode).toBe(200);
      t.clock.advance(t.config.refreshReuseGrace + 1);
      return () => send('POST', '/auth/refresh', TABLET, { payload: { refreshToken: u.refreshToken } });
    }],
    ['logout', async () => {
      const u = await registerOn();
      return () => send('POST', '/auth/logout', LAPTOP, { payload: { refreshToken: u.refreshToken } });
    }],
    ['logout_all', async () => {
      const u = await registerOn();
      return () => send('POST', '/auth/logout-all', LAPTOP, { token: u.accessToken });
    }],
    ['logout_others', async () => {
      const u = await registerOn();
      await loginOn(u.email);
      return () => send('POST', '/auth/logout-others', LAPTOP, { token: u.accessToken });
    }],
    ['session_revoked', async () => {
      const u = await registerOn();
      const other = await loginOn(u.email);
      return () => send('DELETE', `/auth/sessions/${other.sid}`, LAPTOP, { token: u.accessToken });
    }],
    ['password_changed', async () => {
      const u = await registerOn();
      return () => send('POST', '/auth/password', LAPTOP, { token: u.accessToken, payload: { currentPassword: PASSWORD, newPassword: 'a new passphrase' } });
    }],
    ['account_deleted', async () => {
      const u = await registerOn();
      return () => send('DELETE', '/me', LAPTOP, { token: u.accessToken, payload: { password: PASSWORD } });
    }],
  ])('%s: when the event cannot be written, the change is rolled back (500, nothing changed)', async (type, setup) => {
    const act = await setup();
    const events = (await allEvents()).length;
    await failing(type, () => expectRefusedWithoutWrites(t.database, act, { status: 500, code: 'internal_error' }));
    expect(await allEvents()).toHaveLength(events);
  });
});

describe('failed logins and enumeration', () => {
  it('answers an unknown email and a known one alike, each with one event: the known account\'s its own, the unknown one tied to no account', async () => {
    const user = await registerOn(LAPTOP);
    t.clock.advance(1);
    const ghost = uniqueEmail('ghost');
    const before = await allEvents();
    const known = await send('POST', '/auth/login', TABLET, { payload: { email: user.email, password: 'not the password' } });
    const afterKnown = await allEvents();
    const unknown = await send('POST', '/auth/login', TABLET, { payload: { email: ghost, password: 'not the password' } });
    const afterUnknown = await allEvents();

    expect(known.statusCode).toBe(401);
    expect(unknown.body).toBe(known.body);
    const { date: _d1, ...knownHeaders } = known.headers;
    const { date: _d2, ...unknownHeaders } = unknown.headers;
    expect(unknownHeaders).toEqual(knownHeaders);

    // The same work: one row each.
    const added = (from: AuthEvent[], to: AuthEvent[]) => to.filter((row) => !from.some((b) => b.id === row.id));
    const [knownRow] = added(before, afterKnown);
    const [unknownRow] = added(afterKnown, afterUnknown);
    expect(added(before, afterKnown)).toHaveLength(1);
    expect(added(afterKnown, afterUnknown)).toHaveLength(1);
    expect(knownRow).toMatchObject({ userId: user.user.id, type: 'login', code: 'invalid_credentials', sessionId: null, ...TABLET });
    expect(unknownRow).toMatchObject({ userId: null, type: 'login', code: 'invalid_credentials', sessionId: null, ...TABLET });
    // Tied to no account, and the email is nowhere.
    expect(afterUnknown.filter((row) => row.userId !== null)).toEqual(afterKnown.filter((row) => row.userId !== null));
    expect(JSON.stringify(afterUnknown)).not.toContain(ghost);

    // The owner sees the failure in the log.
    const { events } = await page(user.accessToken);
    expect(events[0]).toMatchObject({ id: knownRow!.id, type: 'login', code: 'invalid_credentials', ...TABLET });
  });

  it('records the login limits\' refusals as rate_limited, for a known account on it, for an unknown email on none', async () => {
    const limited = await buildTestApp({ passwordHashing, rateLimit: true });
    try {
      const attempt = (email: string, password: string) =>
        limited.app.inject({ method: 'POST', url: '/auth/login', payload: { email, password }, remoteAddress: '192.0.2.77', headers: { 'user-agent': 'Guesser/1' } });
      const email = uniqueEmail('limited');
      const res = await limited.app.inject({ method: 'POST', url: '/auth/register', payload: { email, password: PASSWORD } });
      const user = res.json() as TokenBody;
      const ghost = uniqueEmail('ghost');
      const answers: LightMyRequestResponse[] = [];
      for (const target of [email, ghost]) {
        let last: LightMyRequestResponse;
        do last = await attempt(target, 'not the password');
        while (last.statusCode === 401);
        answers.push(last);
      }
      const [onKnown, onUnknown] = answers;
      expect(problem(onKnown!).code).toBe('rate_limited');
      expect(onUnknown!.body).toBe(onKnown!.body);
      const rows = await limited.database.db.select().from(authEvents).where(eq(authEvents.code, 'rate_limited'));
      expect(rows.map(({ userId, ip, userAgent, sessionId }) => ({ userId, ip, userAgent, sessionId }))).toEqual([
        { userId: user.user.id, ip: '192.0.2.77', userAgent: 'Guesser/1', sessionId: null },
        { userId: null, ip: '192.0.2.77', userAgent: 'Guesser/1', sessionId: null },
      ]);
      const failures = await limited.database.db.select().from(authEvents).where(isNull(authEvents.userId));
      expect(failures.every((row) => row.type === 'login' && row.code !== null)).toBe(true);
    } finally {
      await limited.close();
    }
  });
});

describe('GET /auth/events pagination', () => {
  /** A user whose log holds the register event plus `ats.length` more at those offsets (seconds) from now. */
  async function userWithEvents(ats: number[]) {
    const user = await registerOn(LAPTOP);
    for (const offset of ats) {
      await recordAuthEvent(t.database.db, { userId: user.user.id, type: 'logout', sessionId: user.sid, at: new Date(t.clock.now() + offset * 1000) });
    }
    const rows = await rowsOf(user.user.id);
    // The contract's order: newest first, ties by id descending (uuid order is the hex string's).
    const order = rows
      .sort((a, b) => b.at.getTime() - a.at.getTime() || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0))
      .map((row) => row.id);
    return { user, order };
  }

  async function walk(token: string, limit: number) {
    const pages: string[][] = [];
    let before: string | null = null;
    do {
      const res: { events: Listed[]; next: string | null } = await page(token, `?limit=${limit}${before ? `&before=${before}` : ''}`);
      pages.push(res.events.map((e) => e.id));
      before = res.next;
      if (pages.length > 50) throw new Error('no end');
    } while (before);
    return pages;
  }

  it('walks the log page by page, ties at one instant included, without a gap or a repeat, next null on the last page', async () => {
    // Three events at one instant, two at another, two more at a third: ties the id must order.
    const { user, order } = await userWithEvents([-1, -1, -1, -2, -2, 0, 0]);
    expect(order).toHaveLength(8);
    for (const limit of [1, 3, 7]) {
      const pages = await walk(user.accessToken, limit);
      expect(pages.flat(), `limit ${limit}`).toEqual(order);
      expect(pages.slice(0, -1).every((p) => p.length === limit)).toBe(true);
      expect(pages.at(-1)!.length).toBeGreaterThan(0);
    }
    // A page that ends exactly at the last event says so: no empty page to fetch.
    expect(await page(user.accessToken, '?limit=8')).toMatchObject({ next: null });
    const exact = await page(user.accessToken, '?limit=4');
    expect(exact.next).toBe(order[3]);
    expect(await page(user.accessToken, `?limit=4&before=${exact.next}`)).toMatchObject({ next: null });
    // The cursor is read case-insensitively, as the uuid it is.
    expect((await page(user.accessToken, `?limit=4&before=${exact.next!.toUpperCase()}`)).events.map((e) => e.id)).toEqual(order.slice(4));
  });

  it('gives 20 events when no limit is asked, and at most 100', async () => {
    const { user, order } = await userWithEvents(Array.from({ length: 104 }, (_, i) => -i - 1));
    const first = await page(user.accessToken);
    expect(first.events.map((e) => e.id)).toEqual(order.slice(0, 20));
    expect(first.next).toBe(order[19]);
    const most = await page(user.accessToken, '?limit=100');
    expect(most.events.map((e) => e.id)).toEqual(order.slice(0, 100));
    expect((await page(user.accessToken, `?limit=100&before=${most.next}`)).events.map((e) => e.id)).toEqual(order.slice(100));
  });

  it.each<[string, string, string]>([
    ['limit 0', '?limit=0', '/querystring/limit'],
    ['limit 101', '?limit=101', '/querystring/limit'],
    ['limit -1', '?limit=-1', '/querystring/limit'],
    ['limit abc', '?limit=abc', '/querystring/limit'],
    ['limit 1.5', '?limit=1.5', '/querystring/limit'],
    ['limit 1e1', '?limit=1e1', '/querystring/limit'],
    ['an empty limit', '?limit=', '/querystring/limit'],
    ['limit twice', '?limit=1&limit=2', '/querystring/limit'],
    ['a cursor of garbage', '?before=garbage', '/querystring/before'],
    ['a cursor of SQL', `?before=${encodeURIComponent("' or 1=1 --")}`, '/querystring/before'],
    ['a uuid with a tail', `?before=${randomUUID()}x`, '/querystring/before'],
    ['an empty cursor', '?before=', '/querystring/before'],
    ['a long cursor', `?before=${'a'.repeat(5000)}`, '/querystring/before'],
  ])('refuses %s with 400 validation_failed, writing nothing', async (_name, query, path) => {
    const user = await registerOn(LAPTOP);
    await expectRefusedWithoutWrites(t.database, () => listEvents(user.accessToken, query), { status: 400, code: 'validation_failed', path });
  });

  it("answers a cursor of another user's event (or of none) with an empty last page, never with that user's events", async () => {
    const alice = await registerOn(LAPTOP);
    const bob = await registerOn(PHONE);
    await loginOn(bob.email, TABLET);
    const bobsNewest = (await page(bob.accessToken)).events[0]!.id;
    for (const before of [bobsNewest, randomUUID()]) {
      expect(await page(alice.accessToken, `?before=${before}`)).toEqual({ events: [], next: null });
    }
  });
});

describe('GET /auth/events and other users', () => {
  it("shows the caller's own events only, and none of an earlier account with the same email", async () => {
    const alice = await registerOn(LAPTOP);
    const bob = await registerOn(PHONE);
    await send('POST', '/auth/login', TABLET, { payload: { email: bob.email, password: 'not the password' } });
    await loginOn(alice.email, TABLET);
    const mine = (await page(alice.accessToken, '?limit=100')).events.map((e) => e.id).sort();
    expect(mine).toEqual((await rowsOf(alice.user.id)).map((row) => row.id).sort());
    expect(mine).toHaveLength(2);

    // Bob deletes his account; a new account on his email starts with an empty log.
    expect((await send('DELETE', '/me', PHONE, { token: bob.accessToken, payload: { password: PASSWORD } })).statusCode).toBe(204);
    const again = await registerOn(PHONE, bob.email);
    const { events } = await page(again.accessToken);
    expect(events.map((e) => e.type)).toEqual(['register']);
    expect((await rowsOf(bob.user.id)).map((row) => row.type).sort()).toEqual(['account_deleted', 'login', 'register']);
  });

  it.each<[string, 'instant' | 'off', (user: Signed) => Promise<unknown>]>([
    ['signed out everywhere', 'instant', (u) => send('POST', '/auth/logout-all', LAPTOP, { token: u.accessToken })],
    ['deleted', 'instant', (u) => send('DELETE', '/me', LAPTOP, { token: u.accessToken, payload: { password: PASSWORD } })],
    ['signed out of its session', 'instant', (u) => send('POST', '/auth/logout', LAPTOP, { payload: { refreshToken: u.refreshToken } })],
    // Past the signature-only check, the route's own read of the account refuses them.
    ['signed out everywhere', 'off', (u) => send('POST', '/auth/logout-all', LAPTOP, { token: u.accessToken })],
    ['deleted', 'off', (u) => send('DELETE', '/me', LAPTOP, { token: u.accessToken, payload: { password: PASSWORD } })],
  ])('refuses an access token whose account was %s: 401 token_revoked (ACCESS_TOKEN_REVOCATION=%s)', async (_name, revocation, revoke) => {
    const app = revocation === 'off' ? lax : t.app;
    const user = await registerOn(LAPTOP);
    await revoke(user);
    const list = () => app.inject({ method: 'GET', url: '/auth/events', headers: bearer(user.accessToken) });
    // The session's revocation reaches the in-memory list through the feed: allow it a moment.
    const deadline = performance.now() + 5000;
    let res = await list();
    while (res.statusCode === 200 && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      res = await list();
    }
    expect(res.statusCode).toBe(401);
    expect(problem(res).code).toBe('token_revoked');
    expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  });

  it('refuses a request without a token: 401 token_missing', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/auth/events' });
    expect(res.statusCode).toBe(401);
    expect(problem(res).code).toBe('token_missing');
  });

  it('is a read: listing writes nothing', async () => {
    const user = await registerOn(LAPTOP);
    const before = await snapshot(t.database);
    await page(user.accessToken);
    expect(await snapshot(t.database)).toEqual(before);
  });
});
