import { createPublicKey, verify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp, decodeJwt, register, type TestApp } from '../helper.js';
import { accessJwtConfig, newAccessKey } from '../support/access-keys.js';

describe('GET /.well-known/jwks.json with HS256', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp();
  });
  afterAll(() => t.close());

  it('answers {"keys":[]}: an HMAC key is secret', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe('{"keys":[]}');
    expect(res.headers['cache-control']).toBe('public, max-age=300');
  });
});

describe.each(['EdDSA', 'ES256'] as const)('GET /.well-known/jwks.json with %s', (algorithm) => {
  const signing = newAccessKey(algorithm);
  const older = newAccessKey(algorithm);
  let t: TestApp;
  beforeAll(async () => {
    t = await buildTestApp({ jwt: accessJwtConfig(algorithm, [signing.pem, older.pem]) });
  });
  afterAll(() => t.close());

  it('publishes the public part of every key, signing key first, cacheable for 300 s', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    expect(res.json()).toStrictEqual({ keys: [signing.jwk, older.jwk] });
    const [first] = res.json().keys;
    expect(first).toMatchObject({ kid: signing.kid, alg: algorithm, use: 'sig', kty: algorithm === 'EdDSA' ? 'OKP' : 'EC' });
    expect(res.body).not.toContain('"d"');
    const d = signing.key.export({ format: 'jwk' }).d!;
    expect(res.body).not.toContain(d);
  });

  it('lets another service verify our access token with the published key alone', async () => {
    const { accessToken } = await register(t.app);
    const { keys } = (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json();
    const jwk = keys.find((key: { kid: string }) => key.kid === decodeJwt(accessToken).header.kid);
    const publicKey = createPublicKey({ key: jwk, format: 'jwk' });
    const input = accessToken.slice(0, accessToken.lastIndexOf('.'));
    const signature = Buffer.from(accessToken.split('.')[2]!, 'base64url');
    const ok =
      algorithm === 'EdDSA'
        ? verify(null, Buffer.from(input), publicKey, signature)
        : verify('sha256', Buffer.from(input), { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature);
    expect(ok).toBe(true);
  });

  it('serves the same set on another instance with the same key files', async () => {
    const other = await t.another();
    const res = await other.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    expect(res.json()).toStrictEqual({ keys: [signing.jwk, older.jwk] });
  });
});
