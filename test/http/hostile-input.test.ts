import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestApp, expectRefusedWithoutWrites, PASSWORD, register, uniqueEmail, type TestApp } from '../helper.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(() => t.close());

const deep = (depth: number) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);

type Row = [name: string, request: () => InjectOptions, status: number, code: string];

/** Hostile bodies and headers: none may answer 500, hang, or write anything. */
const rows: Row[] = [
  ['a body over 16 KiB', () => ({ method: 'POST', url: '/auth/register', payload: { email: uniqueEmail(), password: PASSWORD, pad: 'x'.repeat(17_000) } }), 413, 'payload_too_large'],
  ['a form body', () => ({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'email=a&password=b' }), 415, 'unsupported_media_type'],
  ['a multipart body', () => ({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'multipart/form-data; boundary=x' }, payload: '--x--' }), 415, 'unsupported_media_type'],
  ['no content type with a body', () => ({ method: 'POST', url: '/auth/login', headers: { 'content-type': '' }, payload: '{"email":"a@b.co","password":"12345678"}' }), 415, 'unsupported_media_type'],
  ['broken JSON', () => ({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/json' }, payload: '{"email": "a@b.co", ' }), 400, 'invalid_json'],
  ['JSON nested 2,500 deep', () => ({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/json' }, payload: deep(2_500) }), 400, 'validation_failed'],
  ['a huge JSON array (16 KiB of numbers)', () => ({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/json' }, payload: `[${'1,'.repeat(8000)}1]` }), 400, 'validation_failed'],
  ['a JSON string instead of an object', () => ({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/json' }, payload: '"hello"' }), 400, 'validation_failed'],
  ['JSON null', () => ({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/json' }, payload: 'null' }), 400, 'validation_failed'],
  ['a constructor.prototype payload', () => ({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'application/json' }, payload: '{"constructor":{"prototype":{"admin":true}},"email":"a@b.co","password":"12345678"}' }), 400, 'invalid_json'],
  ['a NUL byte in the email', () => ({ method: 'POST', url: '/auth/register', payload: { email: 'a\u0000b@example.com', password: PASSWORD } }), 400, 'validation_failed'],
  ['a NUL byte in the password', () => ({ method: 'POST', url: '/auth/register', payload: { email: uniqueEmail(), password: 'pass\u0000word123' } }), 400, 'validation_failed'],
  ['invalid UTF-8 in the body', () => ({ method: 'POST', url: '/auth/register', headers: { 'content-type': 'application/json' }, payload: Buffer.concat([Buffer.from('{"email":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from(`@example.com","password":"${PASSWORD}"}`)]) }), 400, 'invalid_json'],
  ['a lone surrogate in the password', () => ({ method: 'POST', url: '/auth/register', headers: { 'content-type': 'application/json' }, payload: `{"email":"${uniqueEmail()}","password":"abc\\ud800defgh"}` }), 400, 'validation_failed'],
  ['an email of 10,000 characters (over the schema bound)', () => ({ method: 'POST', url: '/auth/register', payload: { email: `${'a'.repeat(10_000)}@example.com`, password: PASSWORD } }), 400, 'validation_failed'],
  ['a 10,000-character Authorization header', () => ({ method: 'GET', url: '/me', headers: { authorization: `Bearer ${'x'.repeat(10_000)}` } }), 401, 'token_invalid'],
];

describe('hostile input', () => {
  it.each(rows)('answers %s with a clean refusal and writes nothing', async (_name, request, status, code) => {
    await expectRefusedWithoutWrites(t.database, () => t.app.inject(request()), { status, code });
  });

  it('ignores unknown fields, consistently on every body', async () => {
    const { accessToken, email } = await register(t.app, uniqueEmail(), PASSWORD);
    const login = await t.app.inject({ method: 'POST', url: '/auth/login', payload: { email, password: PASSWORD, role: 'admin' } });
    expect(login.statusCode).toBe(200);
    const refresh = await t.app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: login.json().refreshToken, extra: 1 } });
    expect(refresh.statusCode).toBe(200);
    const remove = await t.app.inject({ method: 'DELETE', url: '/me', headers: bearer(accessToken), payload: { password: PASSWORD, force: true } });
    expect(remove.statusCode).toBe(204);
  });
});
