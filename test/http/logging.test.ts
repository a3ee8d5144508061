import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestApp, PASSWORD, refreshWith, uniqueEmail, logCapture, type TestApp } from '../helper.js';

const { lines, stream: sink } = logCapture();

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp({}, { logger: { level: 'trace', stream: sink } });
});
afterAll(() => t.close());

describe('logging', () => {
  it('never writes a password, a token, an Authorization header or a cookie', async () => {
    const email = uniqueEmail();
    const secrets: string[] = [PASSWORD, 'wrong password!'];
    const reg = await t.app.inject({
      method: 'POST',
      url: '/auth/register',
      payload: { email, password: PASSWORD },
      headers: { cookie: 'refresh_token=cookie-secret-value' },
    });
    const { accessToken, refreshToken } = reg.json();
    secrets.push(accessToken, refreshToken, 'cookie-secret-value');

    await t.app.inject({ method: 'POST', url: '/auth/login', payload: { email, password: 'wrong password!' } });
    const login = (await t.app.inject({ method: 'POST', url: '/auth/login', payload: { email, password: PASSWORD } })).json();
    secrets.push(login.accessToken, login.refreshToken);
    const rotated = (await refreshWith(t.app, login.refreshToken)).json();
    secrets.push(rotated.accessToken, rotated.refreshToken);
    await t.app.inject({ method: 'GET', url: '/me', headers: bearer(accessToken) });
    await t.app.inject({ method: 'GET', url: '/me', headers: bearer(`${accessToken}x`) });
    await t.app.inject({ method: 'POST', url: '/auth/logout', payload: { refreshToken: rotated.refreshToken } });
    await t.app.inject({ method: 'POST', url: '/auth/logout-all', headers: bearer(accessToken) });

    // The log did see these requests, so the check below is about content, not silence.
    expect(lines.filter((line) => line.includes('"url":"/auth/login"')).length).toBeGreaterThanOrEqual(2);
    const log = lines.join('');
    for (const secret of secrets) expect(log).not.toContain(secret);
    // Access tokens share a header segment; a signature or payload must not leak either.
    for (const token of [accessToken, refreshToken]) {
      for (const part of token.split('.').slice(1)) expect(log).not.toContain(part);
    }
  });
});

describe('a path parameter over the router limit (100 characters)', () => {
  const long = 'a'.repeat(101);
  it.each([
    ['DELETE', `/auth/sessions/${long}`],
    ['DELETE', `/auth/sessions/${'%41'.repeat(101)}`],
  ])('%s %s is a 404 not_found, logged at most at info, with no stack trace', async (method, url) => {
    const before = lines.length;
    const res = await t.app.inject({ method: method as 'DELETE', url });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.json()).toEqual({ type: 'about:blank', status: 404, title: 'Not found', code: 'not_found' });
    const logged = lines.slice(before).map((line) => JSON.parse(line) as { level: number; err?: unknown });
    expect(logged.length).toBeGreaterThan(0);
    for (const entry of logged) {
      expect(entry.level).toBeLessThanOrEqual(30);
      expect(JSON.stringify(entry)).not.toContain('    at ');
    }
  });
});
