import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { problem, testClock } from '../helper.js';
import { b64, flip, signRaw } from '../support/jwt.js';
import { accessClaims, AUDIENCE, generateKey, ISSUER, orders, resourceServer, sign, startJwksServer, type JwksServer, type TestKey } from './issuer.js';

/**
 * versioned-auth/verify in another service, against a pretend auth service (keys generated
 * here, a JWKS served here): what it accepts, what it refuses, and with which answer.
 */
const clock = testClock();
let ed: TestKey;
let ec: TestKey;
/** Not published: tokens signed with it name a kid the service does not know. */
let stranger: TestKey;
let jwks: JwksServer;
let app: FastifyInstance;

beforeAll(async () => {
  ed = generateKey('EdDSA');
  ec = generateKey('ES256');
  stranger = generateKey('EdDSA');
  jwks = await startJwksServer([ed.jwk, ec.jwk]);
  ({ app } = await resourceServer({ jwksUrl: jwks.url, issuer: ISSUER, audience: AUDIENCE, clock }));
});
afterAll(async () => {
  await app?.close();
  await jwks?.close();
});

const now = () => clock.now();
const claims = (overrides: Record<string, unknown> = {}) => accessClaims(now(), overrides);
const header = (key: TestKey, fields: Record<string, unknown>) => JSON.stringify({ alg: key.alg, typ: 'at+jwt', kid: key.kid, ...fields });

describe('versioned-auth/verify: a valid access token', () => {
  it.each([
    ['EdDSA (Ed25519)', () => ed],
    ['ES256 (P-256)', () => ec],
  ])('verifies a token signed with %s and sets request.user to its claims, frozen', async (_name, key) => {
    const body = claims();
    const res = await orders(app, sign(key(), body));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ user: body });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('accepts a token 29 s past exp (the 30 s skew) and refuses it at 30 s, on the injected clock', async () => {
    const token = sign(ed, claims());
    clock.advance(900 + 29);
    expect((await orders(app, token)).statusCode).toBe(200);
    clock.advance(1);
    const res = await orders(app, token);
    expect(res.statusCode).toBe(401);
    expect(problem(res).code).toBe('token_expired');
  });
});

type Row = [name: string, code: string, make: () => string];

describe('versioned-auth/verify: refused tokens', () => {
  const rows: Row[] = [
    ['wrong iss', 'token_invalid', () => sign(ed, claims({ iss: 'https://evil.example' }))],
    ['wrong aud', 'token_invalid', () => sign(ed, claims({ aud: 'another-api' }))],
    ['aud an array containing ours', 'token_invalid', () => sign(ed, claims({ aud: [AUDIENCE, 'x'] }))],
    ['typ rt+jwt (a refresh token)', 'token_invalid', () => sign(ed, claims(), { typ: 'rt+jwt' })],
    ['typ JWT', 'token_invalid', () => sign(ed, claims(), { typ: 'JWT' })],
    ['no typ', 'token_invalid', () => sign(ed, claims(), { typ: undefined })],
    ['expired (exp + 30 s passed)', 'token_expired', () => sign(ed, claims({ iat: Math.floor(now() / 1000) - 1000, exp: Math.floor(now() / 1000) - 30 }))],
    ['no exp', 'token_invalid', () => sign(ed, claims({ exp: undefined }))],
    ['iat 31 s ahead', 'token_invalid', () => sign(ed, claims({ iat: Math.floor(now() / 1000) + 31 }))],
    ['nbf 31 s ahead', 'token_invalid', () => sign(ed, claims({ nbf: Math.floor(now() / 1000) + 31 }))],
    ...['none', 'None', 'NONE'].map((alg): Row => [`alg ${alg}, unsigned`, 'token_invalid', () => signRaw(header(ed, { alg }), JSON.stringify(claims()), undefined)]),
    ['alg none with a signature', 'token_invalid', () => `${b64(header(ed, { alg: 'none' }))}.${b64(JSON.stringify(claims()))}.${sign(ed, claims()).split('.')[2]}`],
    ['HS256 signed with the public key PEM as the HMAC secret', 'token_invalid', () => signRaw(header(ed, { alg: 'HS256' }), JSON.stringify(claims()), ed.publicPem)],
    ['HS256 signed with the JWK JSON as the HMAC secret', 'token_invalid', () => signRaw(header(ec, { alg: 'HS256' }), JSON.stringify(claims()), JSON.stringify(ec.jwk))],
    ['HS256 with the public key as secret and the PEM trimmed', 'token_invalid', () => signRaw(header(ed, { alg: 'HS256' }), JSON.stringify(claims()), ed.publicPem.trim())],
    ['ES256 signature under the EdDSA key’s kid', 'token_invalid', () => sign(ec, claims(), { kid: ed.kid })],
    ['EdDSA header on the P-256 key’s kid', 'token_invalid', () => sign(ed, claims(), { kid: ec.kid })],
    ['signed by an unpublished key under a published kid', 'token_invalid', () => sign(stranger, claims(), { kid: ed.kid })],
    ['unknown kid', 'token_invalid', () => sign(stranger, claims())],
    ['no kid', 'token_invalid', () => sign(ed, claims(), { kid: undefined })],
    ['payload changed after signing', 'token_invalid', () => flip(sign(ed, claims()), 1)],
    ['signature changed', 'token_invalid', () => flip(sign(ed, claims()), 2)],
    ['another spelling of the same signature', 'token_invalid', () => respell(sign(ed, claims()))],
    ['sub not a UUID', 'token_invalid', () => sign(ed, claims({ sub: 'admin' }))],
    ['no sid', 'token_invalid', () => sign(ed, claims({ sid: undefined }))],
    ['no email', 'token_invalid', () => sign(ed, claims({ email: undefined }))],
    ['refreshTokenVersion negative', 'token_invalid', () => sign(ed, claims({ refreshTokenVersion: -1 }))],
    ['refreshTokenVersion a string', 'token_invalid', () => sign(ed, claims({ refreshTokenVersion: '0' }))],
    ['over 8192 characters', 'token_invalid', () => sign(ed, claims({ email: `${'a'.repeat(8200)}@example.com` }))],
    ['not a JWT', 'token_invalid', () => 'not-a-token'],
  ];

  it.each(rows)('%s → 401 %s, with the main plugin’s problem and WWW-Authenticate', async (_name, code, make) => {
    const res = await orders(app, make());
    expect(res.statusCode, res.body).toBe(401);
    expect(res.headers['content-type']).toBe('application/problem+json; charset=utf-8');
    expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toEqual({
      type: 'about:blank',
      status: 401,
      title: code === 'token_expired' ? 'The token has expired' : 'The token is invalid',
      code,
    });
  });

  it('no Authorization header → 401 token_missing with a bare WWW-Authenticate: Bearer', async () => {
    const res = await app.inject({ method: 'GET', url: '/orders' });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(problem(res)).toEqual({ type: 'about:blank', status: 401, title: 'Authentication required', code: 'token_missing' });
  });

  it('another scheme → 401 token_invalid', async () => {
    const res = await app.inject({ method: 'GET', url: '/orders', headers: { authorization: `Basic ${sign(ed, claims())}` } });
    expect(res.statusCode).toBe(401);
    expect(problem(res).code).toBe('token_invalid');
  });

  it('a cached token is still refused once expired (time is checked on every call)', async () => {
    const token = sign(ec, claims());
    expect((await orders(app, token)).statusCode).toBe(200);
    expect((await orders(app, token)).statusCode).toBe(200);
    clock.advance(900 + 30);
    expect(problem(await orders(app, token)).code).toBe('token_expired');
  });
});

/** The same signature bytes, spelled with the unused low bits of its last character set. */
function respell(token: string): string {
  const last = token[token.length - 1]!;
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  return token.slice(0, -1) + alphabet[alphabet.indexOf(last) + 1];
}
