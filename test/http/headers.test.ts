import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestApp, PASSWORD, register, uniqueEmail, type TestApp } from '../helper.js';

let t: TestApp;
let accessToken: string;
beforeAll(async () => {
  t = await buildTestApp();
  ({ accessToken } = await register(t.app, uniqueEmail(), PASSWORD));
});
afterAll(() => t.close());

describe('security headers', () => {
  it.each([
    ['GET /health', () => t.app.inject({ method: 'GET', url: '/health' })],
    ['GET /me', () => t.app.inject({ method: 'GET', url: '/me', headers: bearer(accessToken) })],
    ['a 401', () => t.app.inject({ method: 'GET', url: '/me' })],
    ['a 404', () => t.app.inject({ method: 'GET', url: '/nowhere' })],
    ['a token response', () => t.app.inject({ method: 'POST', url: '/auth/login', payload: { email: 'x@example.com', password: PASSWORD } })],
  ])('are on %s', async (_name, send) => {
    const res = await send();
    expect(res.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['referrer-policy']).toBe('no-referrer');
    expect(res.headers['strict-transport-security']).toMatch(/^max-age=\d+/);
    expect(res.headers['x-powered-by']).toBeUndefined();
  });

  it('marks every answer to a credential no-store, the token responses and /me alike', async () => {
    const login = await t.app.inject({ method: 'POST', url: '/auth/login', payload: { email: uniqueEmail(), password: PASSWORD } });
    expect(login.statusCode).toBe(401);
    const { refreshToken } = await register(t.app, uniqueEmail(), PASSWORD);
    for (const res of [
      await t.app.inject({ method: 'GET', url: '/me', headers: bearer(accessToken) }),
      await t.app.inject({ method: 'GET', url: '/auth/sessions', headers: bearer(accessToken) }),
      await t.app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken } }),
    ]) {
      expect(res.headers['cache-control']).toBe('no-store');
    }
  });
});
