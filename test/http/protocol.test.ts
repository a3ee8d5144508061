import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SECURITY_HEADERS } from '../../src/plugins/security-headers.js';
import { buildTestApp, PASSWORD, register, uniqueEmail, type TestApp } from '../helper.js';

let t: TestApp;
let port: number;
beforeAll(async () => {
  t = await buildTestApp();
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  port = (t.app.server.address() as AddressInfo).port;
});
afterAll(() => t.close());

/** Sends raw bytes and returns the raw answer, for requests no HTTP client would send. */
function raw(request: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(request));
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString('latin1')));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
    socket.setTimeout(5000, () => reject(new Error('no answer')));
  });
}

const bodyOf = (answer: string) => JSON.parse(answer.slice(answer.indexOf('\r\n\r\n') + 4));

/** Answers refused before routing carry the same security headers as every other answer. */
function expectSecurityHeaders(answer: string) {
  const head = answer.slice(0, answer.indexOf('\r\n\r\n')).toLowerCase();
  for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect(head, name).toContain(`\r\n${name}: ${value.toLowerCase()}\r\n`);
}

describe('requests refused before routing', () => {
  it('answers a URL that does not decode as an unknown route, in problem+json', async () => {
    const answer = await raw('GET /% HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1.1 404 /);
    expect(answer.toLowerCase()).toContain('content-type: application/problem+json');
    expect(bodyOf(answer)).toEqual({ type: 'about:blank', status: 404, title: 'Not found', code: 'not_found' });
    expectSecurityHeaders(answer);
  });

  it('answers a header with a NUL byte with 400 problem+json, not a 500 or a hang', async () => {
    const answer = await raw('GET /me HTTP/1.1\r\nHost: x\r\nX-Evil: a\u0000b\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1.1 400 /);
    expect(bodyOf(answer)).toMatchObject({ status: 400, code: 'validation_failed' });
    expectSecurityHeaders(answer);
  });

  it('answers conflicting Content-Length and Transfer-Encoding with 400 problem+json', async () => {
    const answer = await raw(
      'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    );
    expect(answer).toMatch(/^HTTP\/1.1 400 /);
    expect(bodyOf(answer).code).toBe('validation_failed');
  });

  it('answers headers over the limit (a 20,000-character Authorization) with 431, never a 500', async () => {
    const answer = await raw(`GET /me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1.1 431 /);
    expect(bodyOf(answer)).toMatchObject({ status: 431, code: 'payload_too_large' });
    expectSecurityHeaders(answer);
  });

  it('uses the first of two Authorization headers, as Node does (it discards the duplicate)', async () => {
    const { accessToken } = await register(t.app);
    const valid = await raw(`GET /me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${accessToken}\r\nAuthorization: Bearer junk\r\nConnection: close\r\n\r\n`);
    expect(valid).toMatch(/^HTTP\/1.1 200 /);
    const junkFirst = await raw(`GET /me HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer junk\r\nAuthorization: Bearer ${accessToken}\r\nConnection: close\r\n\r\n`);
    expect(junkFirst).toMatch(/^HTTP\/1.1 401 /);
    expect(bodyOf(junkFirst).code).toBe('token_invalid');
  });

  it('refuses two X-Token-Transport headers (joined by Node into one value) with 400 validation_failed', async () => {
    const body = JSON.stringify({ email: uniqueEmail(), password: PASSWORD });
    const answer = await raw(
      `POST /auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Token-Transport: cookie\r\nX-Token-Transport: bearer\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
    expect(answer).toMatch(/^HTTP\/1.1 400 /);
    expect(bodyOf(answer).code).toBe('validation_failed');
  });

  it('refuses a 10,000-character bearer token as token_invalid', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/me', headers: { authorization: `Bearer ${'a'.repeat(10_000)}` } });
    expect(res.statusCode).toBe(401);
    expect(res.json().code).toBe('token_invalid');
  });
});
