import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  buildTestApp,
  decodeJwt,
  PASSWORD,
  problem,
  refreshWith,
  register,
  snapshot,
  uniqueEmail,
  type TestApp,
} from '../helper.js';

const APP_ORIGIN = 'https://app.example.com';
const COOKIE = '__Secure-refresh_token';
const SPA = { 'x-token-transport': 'cookie' };

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({ corsOrigins: [APP_ORIGIN] });
});
afterAll(() => t.close());

/** The one Set-Cookie for the refresh token, raw. */
function setCookie(res: LightMyRequestResponse): string {
  const header = res.headers['set-cookie'];
  const all = Array.isArray(header) ? header : header ? [header] : [];
  const mine = all.filter((c) => c.startsWith(`${COOKIE}=`) || c.startsWith('refresh_token='));
  expect(mine).toHaveLength(1);
  return mine[0]!;
}
const cookieValue = (res: LightMyRequestResponse) => setCookie(res).split(';')[0]!.split('=')[1]!;
const attributes = (raw: string) => raw.split('; ').slice(1).sort();

async function spaRegister(headers: Record<string, string> = {}) {
  const res = await t.app.inject({
    method: 'POST',
    url: '/auth/register',
    headers: { ...SPA, origin: APP_ORIGIN, ...headers },
    payload: { email: uniqueEmail('spa'), password: PASSWORD },
  });
  expect(res.statusCode).toBe(201);
  return { res, token: cookieValue(res), body: res.json() };
}

const spaRefresh = (token: string, headers: Record<string, string> = { ...SPA, origin: APP_ORIGIN }) =>
  t.app.inject({ method: 'POST', url: '/auth/refresh', headers, cookies: { [COOKIE]: token } });

describe('cookie transport', () => {
  it('sets the refresh token only in an HttpOnly, Secure, SameSite=Strict cookie on /auth', async () => {
    const { res, body, token } = await spaRegister();
    expect(body).not.toHaveProperty('refreshToken');
    expect(Object.keys(body).sort()).toEqual(['accessToken', 'expiresIn', 'refreshExpiresIn', 'tokenType', 'user']);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(attributes(setCookie(res))).toEqual(['HttpOnly', 'Max-Age=2592000', 'Path=/auth', 'SameSite=Strict', 'Secure']);
    expect(decodeJwt(token).header.typ).toBe('rt+jwt');
  });

  it('logs in with cookie transport too', async () => {
    const email = uniqueEmail('spa');
    await register(t.app, email);
    const res = await t.app.inject({ method: 'POST', url: '/auth/login', headers: SPA, payload: { email, password: PASSWORD } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).not.toHaveProperty('refreshToken');
    expect(decodeJwt(cookieValue(res)).payload.sub).toBe(res.json().user.id);
  });

  it('rotates the cookie on refresh, with Max-Age equal to the remaining lifetime', async () => {
    const { token } = await spaRegister();
    t.clock.advance(3600);
    const res = await spaRefresh(token);
    expect(res.statusCode).toBe(200);
    expect(res.json()).not.toHaveProperty('refreshToken');
    const next = cookieValue(res);
    expect(next).not.toBe(token);
    expect(attributes(setCookie(res))).toContain(`Max-Age=${30 * 86400 - 3600}`);
    expect(res.json().refreshExpiresIn).toBe(30 * 86400 - 3600);
    expect((await spaRefresh(next)).statusCode).toBe(200);
  });

  it('clears the cookie when a refresh through it is refused, so a dead cookie does not loop', async () => {
    const { token, body } = await spaRegister();
    await t.app.inject({ method: 'POST', url: '/auth/logout-all', headers: bearer(body.accessToken) });
    const res = await spaRefresh(token);
    expect(problem(res).code).toBe('token_revoked');
    const cleared = setCookie(res);
    expect(cleared).toMatch(new RegExp(`^${COOKIE}=;`));
    expect(cleared).toMatch(/Expires=Thu, 01 Jan 1970/);
    expect(cleared).toContain('Path=/auth');
  });

  it('logs out: 204, the session revoked and the cookie cleared', async () => {
    const { token } = await spaRegister();
    const res = await t.app.inject({
      method: 'POST',
      url: '/auth/logout',
      headers: { ...SPA, origin: APP_ORIGIN },
      cookies: { [COOKIE]: token },
    });
    expect(res.statusCode).toBe(204);
    expect(setCookie(res)).toMatch(new RegExp(`^${COOKIE}=;`));
    expect(problem(await refreshWith(t.app, token)).code).toBe('token_revoked');
  });

  it.each([
    ['no Origin header', {}],
    ['an Origin listed in CORS_ORIGINS', { origin: APP_ORIGIN }],
    ["the server's own origin", { origin: 'http://localhost' }],
  ])('accepts a cookie refresh with the transport header and %s', async (_name, headers) => {
    const { token } = await spaRegister();
    expect((await spaRefresh(token, { ...SPA, ...headers })).statusCode).toBe(200);
  });
});

describe('CSRF defence', () => {
  const FOREIGN = 'https://evil.example';
  it.each([
    ['refresh: cookie without the transport header', '/auth/refresh', {}, true],
    ['refresh: a foreign Origin', '/auth/refresh', { ...SPA, origin: FOREIGN }, true],
    ['refresh: Origin null', '/auth/refresh', { ...SPA, origin: 'null' }, true],
    ['refresh: a look-alike Origin', '/auth/refresh', { ...SPA, origin: `${APP_ORIGIN}.evil.example` }, true],
    ['refresh: the allowed host over another scheme', '/auth/refresh', { ...SPA, origin: 'http://app.example.com' }, true],
    ['logout: cookie without the transport header', '/auth/logout', {}, true],
    ['logout: a foreign Origin', '/auth/logout', { ...SPA, origin: FOREIGN }, true],
    ['logout: Origin null', '/auth/logout', { ...SPA, origin: 'null' }, true],
    ['login: cookie transport from a foreign Origin', '/auth/login', { ...SPA, origin: FOREIGN }, false],
    ['register: cookie transport from Origin null', '/auth/register', { ...SPA, origin: 'null' }, false],
  ])('refuses %s with 403 csrf_rejected and changes nothing', async (_name, url, headers, withCookie) => {
    const { token } = await spaRegister();
    const email = uniqueEmail('csrf');
    await register(t.app, email);
    const before = await snapshot(t.database);
    const res = await t.app.inject({
      method: 'POST',
      url,
      headers,
      ...(withCookie ? { cookies: { [COOKIE]: token } } : { payload: { email, password: PASSWORD } }),
    });
    expect(res.statusCode).toBe(403);
    expect(problem(res).code).toBe('csrf_rejected');
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(await snapshot(t.database)).toEqual(before);
    // The victim's cookie still works.
    expect((await spaRefresh(token)).statusCode).toBe(200);
  });

  it('never lets a cookie that rides along affect a Bearer logout', async () => {
    const { token: cookieToken } = await spaRegister();
    const mobile = await register(t.app);
    const res = await t.app.inject({
      method: 'POST',
      url: '/auth/logout',
      headers: bearer(mobile.accessToken),
      cookies: { [COOKIE]: cookieToken },
    });
    expect(res.statusCode).toBe(204);
    expect(res.headers['set-cookie']).toBeUndefined();
    expect(problem(await refreshWith(t.app, mobile.refreshToken)).code).toBe('token_revoked');
    expect((await spaRefresh(cookieToken)).statusCode).toBe(200);
  });

  it('never lets a cookie that rides along affect a body-token refresh', async () => {
    const { token: cookieToken } = await spaRegister();
    const mobile = await register(t.app);
    const res = await t.app.inject({
      method: 'POST',
      url: '/auth/refresh',
      payload: { refreshToken: mobile.refreshToken },
      cookies: { [COOKIE]: cookieToken },
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().refreshToken).toBeDefined();
    expect(res.headers['set-cookie']).toBeUndefined();
  });

  it('refuses an unknown transport value with 400 validation_failed', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/auth/login',
      headers: { 'x-token-transport': 'smoke-signals' },
      payload: { email: uniqueEmail(), password: PASSWORD },
    });
    expect(res.statusCode).toBe(400);
    expect(problem(res).code).toBe('validation_failed');
  });
});

describe('COOKIE_SECURE=false', () => {
  it('names the cookie refresh_token and leaves out Secure', async () => {
    const plain = await buildTestApp({ cookieSecure: false });
    try {
      const res = await plain.app.inject({
        method: 'POST',
        url: '/auth/register',
        headers: SPA,
        payload: { email: uniqueEmail(), password: PASSWORD },
      });
      const raw = setCookie(res);
      expect(raw).toMatch(/^refresh_token=/);
      expect(attributes(raw)).toEqual(['HttpOnly', 'Max-Age=2592000', 'Path=/auth', 'SameSite=Strict']);
    } finally {
      await plain.close();
    }
  });
});
