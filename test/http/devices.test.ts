import { createHmac, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ACCESS_SECRET,
  bearer,
  buildTestApp,
  decodeJwt,
  PASSWORD,
  problem,
  refreshWith,
  snapshot,
  uniqueEmail,
  type TestApp,
} from '../helper.js';
import { LAPTOP, PHONE, TABLET, signed, type Device, type Signed } from '../support/devices.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(() => t.close());


async function signIn(url: '/auth/register' | '/auth/login', email: string, device: Device, expected: number): Promise<Signed> {
  const res = await t.app.inject({
    method: 'POST',
    url,
    payload: { email, password: PASSWORD },
    headers: { 'user-agent': device.userAgent },
    remoteAddress: device.ip,
  });
  return signed(res, email, expected);
}
const registerOn = (device: Device = LAPTOP, email = uniqueEmail('dev')) => signIn('/auth/register', email, device, 201);
const loginOn = (email: string, device: Device = PHONE) => signIn('/auth/login', email, device, 200);

const refreshOn = (refreshToken: string, device: Device) =>
  t.app.inject({
    method: 'POST',
    url: '/auth/refresh',
    payload: { refreshToken },
    headers: { 'user-agent': device.userAgent },
    remoteAddress: device.ip,
  });

const listSessions = (accessToken: string) => t.app.inject({ method: 'GET', url: '/auth/sessions', headers: bearer(accessToken) });
const deleteSession = (accessToken: string, id: string) =>
  t.app.inject({ method: 'DELETE', url: `/auth/sessions/${encodeURIComponent(id)}`, headers: bearer(accessToken) });
const logoutOthers = (accessToken: string) => t.app.inject({ method: 'POST', url: '/auth/logout-others', headers: bearer(accessToken) });

interface Listed {
  id: string;
  current: boolean;
  createdAt: string;
  lastUsedAt: string;
  expiresAt: string;
  userAgent: string | null;
  ip: string | null;
}
async function listed(accessToken: string): Promise<Listed[]> {
  const res = await listSessions(accessToken);
  expect(res.statusCode).toBe(200);
  return (res.json() as { sessions: Listed[] }).sessions;
}
const ids = (sessions: { id: string }[]) => sessions.map((s) => s.id);
const iso = (ms: number) => new Date(ms).toISOString();

async function expectRevoked(refreshToken: string) {
  const res = await refreshWith(t.app, refreshToken);
  expect(res.statusCode).toBe(401);
  expect(problem(res).code).toBe('token_revoked');
}

describe('GET /auth/sessions', () => {
  it("lists only the caller's live sessions, newest first, marking the one of the access token as current", async () => {
    const laptop = await registerOn(LAPTOP);
    t.clock.advance(60);
    const phone = await loginOn(laptop.email, PHONE);
    t.clock.advance(60);
    const tablet = await loginOn(laptop.email, TABLET);

    const fromPhone = await listed(phone.accessToken);
    expect(ids(fromPhone)).toEqual([tablet.sid, phone.sid, laptop.sid]);
    expect(fromPhone.map((s) => s.current)).toEqual([false, true, false]);

    const fromLaptop = await listed(laptop.accessToken);
    expect(ids(fromLaptop)).toEqual([tablet.sid, phone.sid, laptop.sid]);
    expect(fromLaptop.map((s) => s.current)).toEqual([false, false, true]);
  });

  it('describes each session with exactly the contract keys, ISO dates, and the device as seen at sign-in', async () => {
    const signedInAt = t.clock.now();
    const laptop = await registerOn(LAPTOP);
    const res = await listSessions(laptop.accessToken);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const body = res.json();
    expect(Object.keys(body)).toEqual(['sessions']);
    expect(body.sessions).toHaveLength(1);
    const [entry] = body.sessions;
    expect(Object.keys(entry).sort()).toEqual(['createdAt', 'current', 'expiresAt', 'id', 'ip', 'lastUsedAt', 'userAgent']);
    expect(entry).toEqual({
      id: laptop.sid,
      current: true,
      createdAt: iso(signedInAt),
      lastUsedAt: iso(signedInAt),
      expiresAt: iso(signedInAt + 30 * 86400 * 1000),
      userAgent: LAPTOP.userAgent,
      ip: LAPTOP.ip,
    });
  });

  it('updates last use, user agent and ip at refresh, keeping creation and end of the session', async () => {
    const createdAt = t.clock.now();
    const laptop = await registerOn(LAPTOP);
    t.clock.advance(3600);
    const refreshed = await refreshOn(laptop.refreshToken, TABLET);
    expect(refreshed.statusCode).toBe(200);
    const [entry] = await listed(refreshed.json().accessToken);
    expect(entry).toEqual({
      id: laptop.sid,
      current: true,
      createdAt: iso(createdAt),
      lastUsedAt: iso(createdAt + 3600 * 1000),
      expiresAt: iso(createdAt + 30 * 86400 * 1000),
      userAgent: TABLET.userAgent,
      ip: TABLET.ip,
    });
  });

  it('stops listing a session signed out with /auth/logout', async () => {
    const laptop = await registerOn(LAPTOP);
    const phone = await loginOn(laptop.email, PHONE);
    const res = await t.app.inject({ method: 'POST', url: '/auth/logout', payload: { refreshToken: phone.refreshToken } });
    expect(res.statusCode).toBe(204);
    expect(ids(await listed(laptop.accessToken))).toEqual([laptop.sid]);
  });

  it('lists none of the sessions from before a logout-all, only those signed in after it', async () => {
    const laptop = await registerOn(LAPTOP);
    const phone = await loginOn(laptop.email, PHONE);
    const res = await t.app.inject({ method: 'POST', url: '/auth/logout-all', headers: bearer(laptop.accessToken) });
    expect(res.statusCode).toBe(200);
    // The old access token is refused here: this route reads the database, which knows the version moved on.
    const stale = await t.app.inject({ method: 'GET', url: '/auth/sessions', headers: bearer(phone.accessToken) });
    expect(stale.statusCode).toBe(401);
    expect(problem(stale).code).toBe('token_revoked');
    t.clock.advance(1);
    const tablet = await loginOn(laptop.email, TABLET);
    const after = await listed(tablet.accessToken);
    expect(ids(after)).toEqual([tablet.sid]);
    expect(after[0]!.current).toBe(true);
  });

  it('stops listing a session once its absolute lifetime has passed', async () => {
    const laptop = await registerOn(LAPTOP);
    t.clock.advance(30 * 86400 - 10);
    const phone = await loginOn(laptop.email, PHONE);
    expect(ids(await listed(phone.accessToken))).toEqual([phone.sid, laptop.sid]);
    t.clock.advance(10);
    expect(ids(await listed(phone.accessToken))).toEqual([phone.sid]);
  });

  it('stops listing a session revoked by refresh token reuse detection', async () => {
    const laptop = await registerOn(LAPTOP);
    const phone = await loginOn(laptop.email, PHONE);
    expect((await refreshWith(t.app, phone.refreshToken)).statusCode).toBe(200);
    t.clock.advance(11);
    expect(problem(await refreshWith(t.app, phone.refreshToken)).code).toBe('refresh_token_reused');
    expect(ids(await listed(laptop.accessToken))).toEqual([laptop.sid]);
  });

  it("never shows another user's sessions", async () => {
    const alice = await registerOn(LAPTOP);
    const alicePhone = await loginOn(alice.email, PHONE);
    const bob = await registerOn(TABLET);

    expect(ids(await listed(alice.accessToken)).sort()).toEqual([alice.sid, alicePhone.sid].sort());
    expect(ids(await listed(bob.accessToken))).toEqual([bob.sid]);

    // Matches the database exactly: every live row of the user, and only those.
    const { sessions } = await snapshot(t.database);
    const bobRows = sessions.filter((s) => s.userId === bob.user.id).map((s) => s.id);
    expect(bobRows).toEqual([bob.sid]);
  });
});

describe('DELETE /auth/sessions/:id', () => {
  it("answers 204 and signs that device out: its refresh token is refused, the other devices still refresh", async () => {
    const laptop = await registerOn(LAPTOP);
    const phone = await loginOn(laptop.email, PHONE);
    const tablet = await loginOn(laptop.email, TABLET);

    const res = await deleteSession(laptop.accessToken, phone.sid);
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');

    await expectRevoked(phone.refreshToken);
    expect((await refreshWith(t.app, laptop.refreshToken)).statusCode).toBe(200);
    expect((await refreshWith(t.app, tablet.refreshToken)).statusCode).toBe(200);
    expect(ids(await listed(laptop.accessToken)).sort()).toEqual([laptop.sid, tablet.sid].sort());

    const { sessions } = await snapshot(t.database);
    expect(sessions.find((s) => s.id === phone.sid)?.revokedAt).toEqual(new Date(t.clock.now()));
  });

  it('signs out the current session itself when asked to', async () => {
    const laptop = await registerOn(LAPTOP);
    const phone = await loginOn(laptop.email, PHONE);
    const res = await deleteSession(laptop.accessToken, laptop.sid);
    expect(res.statusCode).toBe(204);
    await expectRevoked(laptop.refreshToken);
    expect(ids(await listed(phone.accessToken))).toEqual([phone.sid]);
    expect((await refreshWith(t.app, phone.refreshToken)).statusCode).toBe(200);
  });

  it('accepts the session id in upper case', async () => {
    const laptop = await registerOn(LAPTOP);
    const phone = await loginOn(laptop.email, PHONE);
    expect((await deleteSession(laptop.accessToken, phone.sid.toUpperCase())).statusCode).toBe(204);
    await expectRevoked(phone.refreshToken);
  });

  type Setup = (caller: Signed) => Promise<{ id: string; survivor?: Signed }>;
  it.each<[string, Setup]>([
    ['an unknown UUID', async () => ({ id: randomUUID() })],
    ['an id that is not a UUID', async () => ({ id: 'abc' })],
    ['an SQL injection attempt', async () => ({ id: "' or 1=1 --" })],
    ['an empty-looking id of spaces', async () => ({ id: '   ' })],
    [
      "another user's session",
      async () => {
        const other = await registerOn(TABLET);
        return { id: other.sid, survivor: other };
      },
    ],
    [
      'a session already signed out',
      async (caller) => {
        const phone = await loginOn(caller.email, PHONE);
        const out = await t.app.inject({ method: 'POST', url: '/auth/logout', payload: { refreshToken: phone.refreshToken } });
        expect(out.statusCode).toBe(204);
        return { id: phone.sid };
      },
    ],
    [
      'a session revoked by logout-others',
      async (caller) => {
        const phone = await loginOn(caller.email, PHONE);
        expect((await logoutOthers(caller.accessToken)).json()).toEqual({ revokedSessions: 1 });
        return { id: phone.sid };
      },
    ],
  ])('answers 404 not_found for %s, with the same body as for any unknown id, and revokes nothing', async (_name, setup) => {
    const caller = await registerOn(LAPTOP);
    const { id, survivor } = await setup(caller);
    const reference = await deleteSession(caller.accessToken, randomUUID());
    const before = await snapshot(t.database);

    const res = await deleteSession(caller.accessToken, id);
    expect(res.statusCode).toBe(404);
    expect(problem(res)).toEqual({ type: 'about:blank', status: 404, title: 'Not found', code: 'not_found' });
    expect(res.body).toBe(reference.body);
    expect(res.headers['content-type']).toBe(reference.headers['content-type']);
    expect(await snapshot(t.database)).toEqual(before);

    expect((await refreshWith(t.app, caller.refreshToken)).statusCode).toBe(200);
    if (survivor) expect((await refreshWith(t.app, survivor.refreshToken)).statusCode).toBe(200);
  });
});

describe('POST /auth/logout-others', () => {
  it('revokes every other live session, counts them, and keeps the caller signed in', async () => {
    const laptop = await registerOn(LAPTOP);
    const phone = await loginOn(laptop.email, PHONE);
    const tablet = await loginOn(laptop.email, TABLET);
    const spare = await loginOn(laptop.email, PHONE);

    const res = await logoutOthers(laptop.accessToken);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ revokedSessions: 3 });

    for (const other of [phone, tablet, spare]) await expectRevoked(other.refreshToken);
    const still = await refreshWith(t.app, laptop.refreshToken);
    expect(still.statusCode).toBe(200);
    expect(ids(await listed(still.json().accessToken))).toEqual([laptop.sid]);
  });

  it('counts only sessions that were still live, and answers 0 the second time', async () => {
    const laptop = await registerOn(LAPTOP);
    const phone = await loginOn(laptop.email, PHONE);
    const tablet = await loginOn(laptop.email, TABLET);
    expect((await deleteSession(laptop.accessToken, tablet.sid)).statusCode).toBe(204);

    const first = await logoutOthers(laptop.accessToken);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toEqual({ revokedSessions: 1 });
    await expectRevoked(phone.refreshToken);

    const before = await snapshot(t.database);
    const second = await logoutOthers(laptop.accessToken);
    expect(second.statusCode).toBe(200);
    expect(second.json()).toEqual({ revokedSessions: 0 });
    expect(await snapshot(t.database)).toEqual(before);
    expect((await refreshWith(t.app, laptop.refreshToken)).statusCode).toBe(200);
  });

  it("leaves other users' sessions alone", async () => {
    const alice = await registerOn(LAPTOP);
    const bob = await registerOn(PHONE);
    const bobTablet = await loginOn(bob.email, TABLET);
    expect((await logoutOthers(alice.accessToken)).json()).toEqual({ revokedSessions: 0 });
    expect((await refreshWith(t.app, bob.refreshToken)).statusCode).toBe(200);
    expect((await refreshWith(t.app, bobTablet.refreshToken)).statusCode).toBe(200);
  });
});

/** Re-signs an access token's payload with the real access key, changing some claims. */
function resign(token: string, changes: Record<string, unknown>): string {
  const { header, payload } = decodeJwt(token);
  const encode = (part: object) => Buffer.from(JSON.stringify(part)).toString('base64url');
  const input = `${encode(header)}.${encode({ ...payload, ...changes })}`;
  return `${input}.${createHmac('sha256', ACCESS_SECRET).update(input).digest('base64url')}`;
}

describe('Bearer access token on the device routes', () => {
  let victim: Signed;
  let tokens: { refresh: string; forged: string; wrongAudience: string; expired: string; resignedOk: string };
  beforeAll(async () => {
    const old = await registerOn(LAPTOP);
    t.clock.advance(900 + 30);
    victim = await registerOn(PHONE);
    const access = victim.accessToken;
    tokens = {
      refresh: victim.refreshToken,
      forged: access.slice(0, access.lastIndexOf('.') + 1) + 'x'.repeat(43),
      wrongAudience: resign(access, { aud: 'someone-else' }),
      expired: old.accessToken,
      resignedOk: resign(access, {}),
    };
  });

  it('re-signs a valid token faithfully (the forgery helper below is sound)', async () => {
    expect((await listSessions(tokens.resignedOk)).statusCode).toBe(200);
  });

  const routes: [string, 'GET' | 'DELETE' | 'POST', () => string][] = [
    ['GET /auth/sessions', 'GET', () => '/auth/sessions'],
    ['DELETE /auth/sessions/:id', 'DELETE', () => `/auth/sessions/${victim.sid}`],
    ['POST /auth/logout-others', 'POST', () => '/auth/logout-others'],
  ];
  const credentials: [string, () => string | undefined, string, string][] = [
    ['no Authorization header', () => undefined, 'token_missing', 'Bearer'],
    ['another scheme', () => 'Basic dXNlcjpwYXNz', 'token_invalid', 'Bearer error="invalid_token"'],
    ['a bare scheme', () => 'Bearer', 'token_invalid', 'Bearer error="invalid_token"'],
    ['garbage', () => 'Bearer not.a.jwt', 'token_invalid', 'Bearer error="invalid_token"'],
    ['a refresh token', () => `Bearer ${tokens.refresh}`, 'token_invalid', 'Bearer error="invalid_token"'],
    ['a bad signature', () => `Bearer ${tokens.forged}`, 'token_invalid', 'Bearer error="invalid_token"'],
    ['a correctly signed token for another audience', () => `Bearer ${tokens.wrongAudience}`, 'token_invalid', 'Bearer error="invalid_token"'],
    ['an expired access token', () => `Bearer ${tokens.expired}`, 'token_expired', 'Bearer error="invalid_token"'],
  ];
  const rows = routes.flatMap(([route, method, url]) =>
    credentials.map(([name, authorization, code, challenge]) => [route, name, method, url, authorization, code, challenge] as const),
  );

  it.each(rows)('%s with %s answers 401 and changes nothing', async (_route, _name, method, url, authorization, code, challenge) => {
    const before = await snapshot(t.database);
    const header = authorization();
    const res = await t.app.inject({ method, url: url(), ...(header === undefined ? {} : { headers: { authorization: header } }) });
    expect(res.statusCode).toBe(401);
    expect(problem(res).code).toBe(code);
    expect(res.headers['www-authenticate']).toBe(challenge);
    expect(await snapshot(t.database)).toEqual(before);
  });
});
