import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { securityHeaders } from '../../src/plugins/security-headers.js';
import { bearer, buildTestApp, PASSWORD, register, uniqueEmail, type TestApp } from '../helper.js';

let t: TestApp;
let accessToken: string;
const email = uniqueEmail();
beforeAll(async () => {
  t = await buildTestApp();
  ({ accessToken } = await register(t.app, email, PASSWORD));
});
afterAll(() => t.close());

/** helmet's defaults with our CSP, frame, referrer and CORP choices: pinned, so a helmet upgrade that changes one shows here. */
const EXPECTED = {
  'content-security-policy': "default-src 'none';frame-ancestors 'none'",
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-site',
  'origin-agent-cluster': '?1',
  'referrer-policy': 'no-referrer',
  'strict-transport-security': 'max-age=31536000; includeSubDomains',
  'x-content-type-options': 'nosniff',
  'x-dns-prefetch-control': 'off',
  'x-download-options': 'noopen',
  'x-frame-options': 'DENY',
  'x-permitted-cross-domain-policies': 'none',
  'x-xss-protection': '0',
};

describe('security headers', () => {
  it('are exactly what helmet sets for our options, recorded once', () => {
    expect(securityHeaders()).toEqual(EXPECTED);
  });

  it.each([
    ['GET /health', () => t.app.inject({ method: 'GET', url: '/health' })],
    ['GET /me', () => t.app.inject({ method: 'GET', url: '/me', headers: bearer(accessToken) })],
    ['a 401', () => t.app.inject({ method: 'GET', url: '/me' })],
    ['a 404', () => t.app.inject({ method: 'GET', url: '/nowhere' })],
    ['a token response', () => t.app.inject({ method: 'POST', url: '/auth/login', payload: { email, password: PASSWORD } })],
    ['a failed login', () => t.app.inject({ method: 'POST', url: '/auth/login', payload: { email: 'x@example.com', password: PASSWORD } })],
    ['a body that is not JSON', () => t.app.inject({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/json' }, payload: '{' })],
    ['a 413', () => t.app.inject({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ email, password: 'p'.repeat(20_000) }) })],
    ['a 400', () => t.app.inject({ method: 'POST', url: '/auth/login', payload: { email: 'not-an-email' } })],
    ['a 415', () => t.app.inject({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'text/plain' }, payload: 'x' })],
  ])('are on %s', async (name, send) => {
    const res = await send();
    const status = { 'a token response': 200, 'a failed login': 401, 'a body that is not JSON': 400, 'a 413': 413 }[name as string];
    if (status) expect(res.statusCode).toBe(status);
    for (const [name, value] of Object.entries(EXPECTED)) expect(res.headers[name], name).toBe(value);
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
