import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, expectRefusedWithoutWrites, problem, type TestApp } from '../helper.js';

const APP_ORIGIN = 'https://app.example.com';
const VITE_ORIGIN = 'http://localhost:5173';

let listed: TestApp;
let empty: TestApp;
beforeAll(async () => {
  [listed, empty] = await Promise.all([buildTestApp({ corsOrigins: [APP_ORIGIN] }), buildTestApp({ corsOrigins: [] })]);
});
afterAll(() => Promise.all([listed?.close(), empty?.close()]));

const preflight = (t: TestApp, origin: string, url = '/auth/refresh') =>
  t.app.inject({
    method: 'OPTIONS',
    url,
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-token-transport' },
  });

const corsHeaders = (res: LightMyRequestResponse) => Object.keys(res.headers).filter((name) => name.startsWith('access-control-'));

describe('CORS preflight', () => {
  it('answers an origin in CORS_ORIGINS with 204, credentials and the three headers', async () => {
    const res = await preflight(listed, APP_ORIGIN);
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect(res.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    expect(res.headers['access-control-allow-methods']).toBe('GET, POST, DELETE');
    expect(String(res.headers['access-control-allow-headers']).toLowerCase().split(/, */).sort()).toEqual([
      'authorization',
      'content-type',
      'x-token-transport',
    ]);
    expect(res.headers['access-control-max-age']).toBe('600');
    expect(res.headers.vary).toContain('Origin');
  });

  it.each<[string, () => TestApp, string, string?]>([
    ['a foreign origin', () => listed, 'https://evil.example'],
    ['the listed host over http', () => listed, 'http://app.example.com'],
    ['Origin: null', () => listed, 'null'],
    ['a dev server on localhost:5173 not in CORS_ORIGINS', () => listed, VITE_ORIGIN],
    ['a foreign origin, to a path that does not exist', () => listed, 'https://evil.example', '/nope'],
    ['any origin when CORS_ORIGINS is empty', () => empty, APP_ORIGIN],
    ['a dev server on localhost:5173 when CORS_ORIGINS is empty', () => empty, VITE_ORIGIN],
    ['any origin when CORS_ORIGINS is empty, to /me', () => empty, VITE_ORIGIN, '/me'],
  ])('refuses %s with 403 csrf_rejected "Origin not allowed" and no CORS grant', async (_name, app, origin, url) => {
    const t = app();
    const res = await expectRefusedWithoutWrites(t.database, () => preflight(t, origin, url), { status: 403, code: 'csrf_rejected' });
    expect(problem(res)).toEqual({ type: 'about:blank', status: 403, title: 'Origin not allowed', code: 'csrf_rejected' });
    expect(corsHeaders(res)).toEqual([]);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
  });
});

describe('what is not a preflight', () => {
  it.each<[string, () => TestApp, Record<string, string>]>([
    ['OPTIONS without Origin', () => listed, { 'access-control-request-method': 'POST' }],
    ['OPTIONS without Origin, CORS_ORIGINS empty', () => empty, { 'access-control-request-method': 'POST' }],
    ['OPTIONS from a foreign origin without Access-Control-Request-Method', () => listed, { origin: 'https://evil.example' }],
    ['OPTIONS without Access-Control-Request-Method, CORS_ORIGINS empty', () => empty, { origin: APP_ORIGIN }],
    ['a bare OPTIONS', () => listed, {}],
  ])('answers %s with a 404, as before', async (_name, app, headers) => {
    const res = await app().app.inject({ method: 'OPTIONS', url: '/auth/refresh', headers });
    expect(res.statusCode).toBe(404);
    expect(problem(res).code).toBe('not_found');
    expect(corsHeaders(res)).toEqual([]);
  });

  it.each<[string, () => TestApp]>([
    ['with CORS_ORIGINS set', () => listed],
    ['with CORS_ORIGINS empty', () => empty],
  ])('serves a request from a foreign origin %s, without a CORS grant (the browser keeps the answer from the page)', async (_name, app) => {
    const res = await app().app.inject({ method: 'GET', url: '/health', headers: { origin: 'https://evil.example' } });
    expect(res.statusCode).toBe(200);
    expect(corsHeaders(res)).toEqual([]);
  });

  it('grants a listed origin on the request itself, with credentials', async () => {
    const res = await listed.app.inject({ method: 'GET', url: '/health', headers: { origin: APP_ORIGIN } });
    expect(res.statusCode).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe(APP_ORIGIN);
    expect(res.headers['access-control-allow-credentials']).toBe('true');
    expect(res.headers['access-control-expose-headers']).toBe('Retry-After, WWW-Authenticate');
  });
});
