import { createSign, generateKeyPairSync, type KeyObject } from 'node:crypto';
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
import { accessJwtConfig, ALGORITHMS, newAccessKey, signAsymmetric, signHmac } from '../support/access-keys.js';
import { b64, flip, signRaw, type Hash, type Json } from '../support/jwt.js';

/**
 * The JWT attack catalogue against the running app: each row is a hostile token sent where
 * an access token (Bearer on /me and /auth/logout-all) or a refresh token (/auth/refresh)
 * is expected, the answer it must get, and proof that nothing was written. The whole
 * catalogue runs once for each access-token algorithm (refresh tokens are HS256 in all).
 */
describe.each(ALGORITHMS)('access tokens signed with %s', (algorithm) => {
  const asymmetric = algorithm !== 'HS256';
  /** Our access private key (EdDSA/ES256). */
  const accessKey = asymmetric ? newAccessKey(algorithm) : undefined;
  let t: TestApp;
  let victim: TokenBody;
  let access: { header: Json; payload: Json };
  let refresh: { header: Json; payload: Json };
  /** A server standing where jku / x5u point: it must never be called. */
  let keyServer: Server;
  let keyServerHits = 0;
  let keyServerUrl: string;

  beforeAll(async () => {
    t = await buildTestApp({ jwt: accessJwtConfig(algorithm, accessKey && [accessKey.pem]) });
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
    /** An Ed25519 or P-256 private key to sign with instead of an HMAC secret. */
    key?: KeyObject;
  }

  /** The victim's own token, re-signed with one thing changed (our secret unless the row says otherwise). */
  function variant(kind: 'access' | 'refresh', v: Variant = {}): string {
    const base = kind === 'access' ? access : refresh;
    const drop = (o: Json) => Object.fromEntries(Object.entries(o).filter(([, value]) => value !== undefined));
    const headerText = v.rawHeader ?? JSON.stringify(drop({ ...base.header, ...v.header }));
    const payloadText = v.rawPayload ?? JSON.stringify(drop({ ...base.payload, ...v.payload }));
    const key = v.key ?? (kind === 'access' && v.secret === undefined ? accessKey?.key : undefined);
    if (key) return signAsymmetric(headerText, payloadText, key);
    const secret = v.secret === null ? undefined : (v.secret ?? (kind === 'access' ? ACCESS_SECRET : REFRESH_SECRET));
    return signRaw(headerText, payloadText, secret, v.hash);
  }

  const now = () => Math.floor(t.clock.now() / 1000);

  /** Signing with the other kind's key, its header's `alg` to match. */
  function otherKey(kind: 'access' | 'refresh'): Variant {
    if (kind === 'access') return { header: { alg: 'HS256' }, secret: REFRESH_SECRET };
    return accessKey ? { header: { alg: algorithm }, key: accessKey.key } : { secret: ACCESS_SECRET };
  }
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
      ...['RS256', 'ES256', 'EdDSA', 'HS256', 'HS512']
        .filter((alg) => alg !== (kind === 'access' ? algorithm : 'HS256'))
        .map((alg): Row => [`alg switched to ${alg}, signed with our key`, v({ header: { alg }, hash: alg === 'HS512' ? 'sha512' : 'sha256' }), 401, 'token_invalid']),
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
      [`our token re-signed with the ${other} key`, () => variant(kind, otherKey(kind)), 401, 'token_invalid'],
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

  // HS256 has no public key: these rows exist for EdDSA and ES256 only.
  if (asymmetric) describe('the public key used as an HMAC secret, and other keys', () => {
    const headerWith = (fields: Json) => JSON.stringify({ ...access.header, ...fields });
    const payload = () => JSON.stringify(access.payload);
    const ours = algorithm as 'EdDSA' | 'ES256';
    const otherAlgorithm = algorithm === 'EdDSA' ? 'ES256' : 'EdDSA';
    const rows: [name: string, make: () => string][] = [
      ['alg HS256, HMAC-signed with our public key as PEM text', () => signHmac(headerWith({ alg: 'HS256' }), payload(), accessKey!.publicPem)],
      ['alg HS256, HMAC-signed with our public key as PEM text, no kid', () => signHmac(headerWith({ alg: 'HS256', kid: undefined }), payload(), accessKey!.publicPem)],
      ['alg HS256, HMAC-signed with the bytes of the JWK x', () => signHmac(headerWith({ alg: 'HS256' }), payload(), Buffer.from(accessKey!.jwk.x, 'base64url'))],
      ['alg HS256, HMAC-signed with the JWK x as text', () => signHmac(headerWith({ alg: 'HS256' }), payload(), accessKey!.jwk.x)],
      ['alg HS256, HMAC-signed with the published JWK as JSON text', () => signHmac(headerWith({ alg: 'HS256' }), payload(), JSON.stringify(accessKey!.jwk))],
      ['alg none, our kid', () => `${b64(headerWith({ alg: 'none' }))}.${b64(payload())}.`],
      [`alg ${otherAlgorithm} (a key of that type) carrying our kid`, () => signAsymmetric(headerWith({ alg: otherAlgorithm }), payload(), newAccessKey(otherAlgorithm).key)],
      [`alg ${algorithm}, signed by a key we do not have, carrying our kid`, () => signAsymmetric(headerWith({}), payload(), newAccessKey(ours).key)],
      [`alg ${algorithm}, signed by a key we do not have, its own kid`, () => {
        const stranger = newAccessKey(ours);
        return signAsymmetric(headerWith({ kid: stranger.kid }), payload(), stranger.key);
      }],
      ['alg RS256, signed with an RSA key, carrying our kid', () => signRsa(headerWith({ alg: 'RS256' }), payload())],
      ...[1, 8, 15].map((unused): [string, () => string] => [`our signature respelled: its 4 unused bits set to ${unused}`, () => respell(victim.accessToken, unused)]),
    ];

    it.each(rows)('refuses %s with 401 token_invalid, writing nothing', async (_name, make) => {
      const before = await snapshot(t.database);
      const res = await t.app.inject({ method: 'GET', url: '/me', headers: bearer(make()) });
      expect(res.statusCode).toBe(401);
      expect(problem(res).code).toBe('token_invalid');
      expect(await snapshot(t.database)).toEqual(before);
    });

    it('accepts the token the rows start from', async () => {
      expect((await t.app.inject({ method: 'GET', url: '/me', headers: bearer(victim.accessToken) })).statusCode).toBe(200);
      expect(access.header).toEqual({ alg: algorithm, typ: 'at+jwt', kid: accessKey!.kid });
    });
  });
});

const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The token with the unused low bits of its 86-character signature's last character set to `unused`: the same bytes, spelled differently. */
function respell(token: string, unused: number): string {
  const last = BASE64URL.indexOf(token.at(-1)!);
  const respelled = token.slice(0, -1) + BASE64URL[(last & ~15) | unused];
  expect(Buffer.from(respelled.split('.')[2]!, 'base64url')).toEqual(Buffer.from(token.split('.')[2]!, 'base64url'));
  return respelled;
}

function signRsa(headerText: string, payloadText: string): string {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const input = `${b64(headerText)}.${b64(payloadText)}`;
  return `${input}.${createSign('sha256').update(input).sign(privateKey).toString('base64url')}`;
}
