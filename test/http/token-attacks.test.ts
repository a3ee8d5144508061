import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ACCESS_SECRET,
  bearer,
  buildTestApp,
  decodeJwt,
  PASSWORD,
  problem,
  REFRESH_SECRET,
  refreshWith,
  register,
  snapshot,
  type TestApp,
  type TokenBody,
} from '../helper.js';
import { b64, flip, signRaw, type Hash, type Json } from '../support/jwt.js';

/**
 * The JWT attack catalogue against the running app: each row is a hostile token sent where
 * an access token (Bearer on /me and /auth/logout-all) or a refresh token (/auth/refresh)
 * is expected, the answer it must get, and proof that nothing was written.
 */
let t: TestApp;
let victim: TokenBody;
let access: { header: Json; payload: Json };
let refresh: { header: Json; payload: Json };
/** A server standing where jku / x5u point: it must never be called. */
let keyServer: Server;
let keyServerHits = 0;
let keyServerUrl: string;

beforeAll(async () => {
  t = await buildTestApp();
  victim = await register(t.app);
  access = decodeJwt(victim.accessToken);
  refresh = decodeJwt(victim.refreshToken);
  keyServer = createServer((_req, res) => {
    keyServerHits++;
    res.end('{"keys":[]}');
  });
  await new Promise<void>((resolve) => keyServer.listen(0, '127.0.0.1', resolve));
  keyServerUrl = `http://127.0.0.1:${(keyServer.address() as AddressInfo).port}/jwks.json`;
});
afterAll(async () => {
  keyServer.close();
  await t.close();
});

interface Variant {
  header?: Json;
  payload?: Json;
  rawHeader?: string;
  rawPayload?: string;
  secret?: string | null;
  hash?: Hash;
}

/** The victim's own token, re-signed with one thing changed (our secret unless the row says otherwise). */
function variant(kind: 'access' | 'refresh', v: Variant = {}): string {
  const base = kind === 'access' ? access : refresh;
  const drop = (o: Json) => Object.fromEntries(Object.entries(o).filter(([, value]) => value !== undefined));
  const headerText = v.rawHeader ?? JSON.stringify(drop({ ...base.header, ...v.header }));
  const payloadText = v.rawPayload ?? JSON.stringify(drop({ ...base.payload, ...v.payload }));
  const secret = v.secret === null ? undefined : (v.secret ?? (kind === 'access' ? ACCESS_SECRET : REFRESH_SECRET));
  return signRaw(headerText, payloadText, secret, v.hash);
}

const now = () => Math.floor(t.clock.now() / 1000);
type Row = [name: string, make: () => string, status: number | number[], code: string];

/** Both kinds get the same structural attacks. */
function structural(kind: 'access' | 'refresh'): Row[] {
  const real = () => (kind === 'access' ? victim.accessToken : victim.refreshToken);
  const v = (x: Variant | (() => Variant)) => () => variant(kind, typeof x === 'function' ? x() : x);
  return [
    ...['none', 'None', 'NONE', 'nOnE'].flatMap((alg): Row[] => [
      [`alg ${alg}, unsigned`, v({ header: { alg }, secret: null }), 401, 'token_invalid'],
      [`alg ${alg}, with a signature`, v({ header: { alg } }), 401, 'token_invalid'],
    ]),
    ...['RS256', 'ES256', 'EdDSA', 'HS512'].map((alg): Row => [`alg switched to ${alg}, signed with our secret`, v({ header: { alg }, hash: alg === 'HS512' ? 'sha512' : 'sha256' }), 401, 'token_invalid']),
    ['a flipped byte in the header', () => flip(real(), 0), 401, 'token_invalid'],
    ['a flipped byte in the payload', () => flip(real(), 1), 401, 'token_invalid'],
    ['a flipped byte in the signature', () => flip(real(), 2), 401, 'token_invalid'],
    ['the signature removed', () => real().slice(0, real().lastIndexOf('.') + 1), 401, 'token_invalid'],
    ['the signature segment dropped (2 segments)', () => real().slice(0, real().lastIndexOf('.')), 401, 'token_invalid'],
    ['4 segments', () => `${real()}.${b64('x')}`, 401, 'token_invalid'],
    ['5 segments (a JWE shape)', () => `${real()}.${b64('iv')}.${b64('tag')}`, 401, 'token_invalid'],
    ['a space inside', () => real().replace('.', ' .'), 401, 'token_invalid'],
    ['a newline inside', () => real().replace('.', '.\n'), 401, 'token_invalid'],
    ['malformed base64url (+ and /)', () => real().replace(/-/g, '+').replace(/_/g, '/') + '+/', 401, 'token_invalid'],
    ['base64 padding', () => real().replace('.', '==.'), 401, 'token_invalid'],
    ['a payload that is a JSON array', v({ rawPayload: '[1,2]' }), 401, 'token_invalid'],
    ['a payload that is a string', v({ rawPayload: '"hello"' }), 401, 'token_invalid'],
    ['a payload that is null', v({ rawPayload: 'null' }), 401, 'token_invalid'],
    ['sub a number', v({ payload: { sub: 42 } }), 401, 'token_invalid'],
    ['sub empty', v({ payload: { sub: '' } }), 401, 'token_invalid'],
    ['sub an object', v({ payload: { sub: { id: 1 } } }), 401, 'token_invalid'],
    ['exp missing', v({ payload: { exp: undefined } }), 401, 'token_invalid'],
    ['expired beyond the skew', v(() => ({ payload: { exp: now() - 31 } })), 401, 'token_expired'],
    ['nbf in the future beyond the skew', v(() => ({ payload: { nbf: now() + 60 } })), 401, 'token_invalid'],
    ['iat in the future beyond the skew', v(() => ({ payload: { iat: now() + 60 } })), 401, 'token_invalid'],
    ['a wrong iss', v({ payload: { iss: 'someone-else' } }), 401, 'token_invalid'],
    ['a wrong aud', v({ payload: { aud: 'another-service' } }), 401, 'token_invalid'],
    ['an unknown kid', v({ header: { kid: 'not-a-key' } }), 401, 'token_invalid'],
    ['a kid that is a path', v({ header: { kid: '../../dev/null' } }), 401, 'token_invalid'],
    ['a kid that is SQL', v({ header: { kid: "' OR 1=1 --" } }), 401, 'token_invalid'],
    ['a kid that is missing', v({ header: { kid: undefined } }), 401, 'token_invalid'],
    ['a crit header', v({ header: { crit: ['exp'] } }), 401, 'token_invalid'],
    ['a crit extension', v({ header: { crit: ['x-custom'], 'x-custom': 1 } }), 401, 'token_invalid'],
    ['over 8 KiB', v({ payload: { pad: 'p'.repeat(9000) } }), [401, 431], ''],
  ];
}

describe.each([
  ['GET /me', 'access' as const],
  ['POST /auth/logout-all', 'access' as const],
  ['POST /auth/refresh', 'refresh' as const],
])('%s refuses hostile tokens, writing nothing', (route, kind) => {
  const send = (token: string): Promise<LightMyRequestResponse> => {
    if (route === 'GET /me') return t.app.inject({ method: 'GET', url: '/me', headers: { authorization: `Bearer ${token}` } });
    if (route === 'POST /auth/logout-all') return t.app.inject({ method: 'POST', url: '/auth/logout-all', headers: { authorization: `Bearer ${token}` } });
    return refreshWith(t.app, token);
  };
  const other = kind === 'access' ? 'refresh' : 'access';
  const rows: Row[] = [
    ...structural(kind),
    [`the ${other} token of the same session`, () => (kind === 'access' ? victim.refreshToken : victim.accessToken), 401, 'token_invalid'],
    [`our token re-signed with the ${other} key`, () => variant(kind, { secret: kind === 'access' ? REFRESH_SECRET : ACCESS_SECRET }), 401, 'token_invalid'],
    [`the ${other} typ with this key`, () => variant(kind, { header: { typ: kind === 'access' ? 'rt+jwt' : 'at+jwt' } }), 401, 'token_invalid'],
    [`the ${other} audience`, () => variant(kind, { payload: { aud: kind === 'access' ? 'versioned-auth:refresh' : 'versioned-auth' } }), 401, 'token_invalid'],
  ];

  it.each(rows)('%s', async (_name, make, status, code) => {
    const before = await snapshot(t.database);
    const res = await send(make());
    expect([status].flat()).toContain(res.statusCode);
    if (code) expect(problem(res).code).toBe(code);
    if (res.statusCode === 401 && kind === 'access') expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    expect(await snapshot(t.database)).toEqual(before);
  });
});

describe('key-location headers', () => {
  it.each([
    ['jku', (url: string) => ({ jku: url })],
    ['x5u', (url: string) => ({ x5u: url })],
    ['an embedded jwk', () => ({ jwk: { kty: 'oct', k: b64('attacker-secret-attacker-secret!!') } })],
  ])('ignores %s: a token signed with the attacker key is refused and no request goes out', async (_name, header) => {
    const before = await snapshot(t.database);
    const token = variant('access', { header: header(keyServerUrl), secret: 'attacker-secret-attacker-secret!!' });
    const res = await t.app.inject({ method: 'GET', url: '/me', headers: bearer(token) });
    expect(res.statusCode).toBe(401);
    expect(problem(res).code).toBe('token_invalid');
    expect(keyServerHits).toBe(0);
    expect(await snapshot(t.database)).toEqual(before);
  });
});

describe('duplicate claim keys', () => {
  it('uses the last value, as JSON.parse reads it', async () => {
    const first = '00000000-0000-4000-8000-000000000001';
    const last = '00000000-0000-4000-8000-000000000002';
    const payload = JSON.stringify(access.payload).replace('{', `{"sub":"${first}",`).replace(/}$/, `,"sub":"${last}"}`);
    expect(payload.match(/"sub"/g)).toHaveLength(3);
    const res = await t.app.inject({ method: 'GET', url: '/me', headers: bearer(variant('access', { rawPayload: payload })) });
    expect(res.statusCode).toBe(200);
    expect(res.json().id).toBe(last);
  });
});

describe('a refresh token of a deleted user', () => {
  it('is refused with token_revoked', async () => {
    const doomed = await register(t.app);
    const deleted = await t.app.inject({ method: 'DELETE', url: '/me', headers: bearer(doomed.accessToken), payload: { password: PASSWORD } });
    expect(deleted.statusCode).toBe(204);
    const before = await snapshot(t.database);
    const res = await refreshWith(t.app, doomed.refreshToken);
    expect(res.statusCode).toBe(401);
    expect(problem(res).code).toBe('token_revoked');
    expect(await snapshot(t.database)).toEqual(before);
  });
});
