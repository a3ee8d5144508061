import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestApp, PASSWORD, refreshWith, uniqueEmail, type TestApp } from '../helper.js';

const lines: string[] = [];
const sink = new Writable({
  write(chunk, _encoding, done) {
    lines.push(String(chunk));
    done();
  },
});

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
