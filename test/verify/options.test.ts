import { generateKeyPairSync } from 'node:crypto';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import verifyPlugin, { type VerifyOptions } from 'versioned-auth/verify';
import { problem, testClock } from '../helper.js';
import { accessClaims, AUDIENCE, generateKey, ISSUER, orders, resourceServer, sign, type TestKey } from './issuer.js';

/** Registration refuses bad options at once (one message naming the option); `publicKeys` verifies without any fetch. */
describe('versioned-auth/verify options', () => {
  const ed = generateKey('EdDSA');
  const base = { issuer: ISSUER, audience: AUDIENCE, publicKeys: [ed.jwk] };
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });

  it.each<[string, Partial<VerifyOptions> & Record<string, unknown>, RegExp]>([
    ['neither jwksUrl nor publicKeys', { publicKeys: undefined }, /jwksUrl \/ publicKeys exactly one/],
    ['both jwksUrl and publicKeys', { jwksUrl: 'https://auth.example/jwks.json' }, /jwksUrl \/ publicKeys exactly one/],
    ['a jwksUrl that is not http(s)', { publicKeys: undefined, jwksUrl: 'file:///etc/keys.json' }, /jwksUrl must be an http\(s\) URL/],
    ['no issuer', { issuer: '' }, /issuer must be a non-empty string/],
    ['no audience', { audience: undefined as never }, /audience must be a non-empty string/],
    ['an empty publicKeys', { publicKeys: [] }, /publicKeys must be a non-empty array/],
    ['an HMAC key (kty oct)', { publicKeys: [{ kty: 'oct', k: 'c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0' }] }, /publicKeys\[0\] is refused: not a public key/],
    ['a private JWK', { publicKeys: [generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' })] }, /publicKeys\[0\] is refused: a private key/],
    ['a private PEM', { publicKeys: [ed.privatePem] }, /publicKeys\[0\] is refused: a private key/],
    ['an RSA key', { publicKeys: [rsa.publicKey.export({ type: 'spki', format: 'pem' }) as string] }, /only Ed25519 \(EdDSA\) and P-256 \(ES256\)/],
    ['an Ed448 key', { publicKeys: [generateKeyPairSync('ed448').publicKey.export({ format: 'jwk' })] }, /only Ed25519/],
    ['a P-384 key', { publicKeys: [generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({ format: 'jwk' })] }, /only Ed25519/],
    ['a JWK whose alg contradicts its key', { publicKeys: [{ ...ed.jwk, alg: 'HS256' }] }, /alg HS256 does not fit a Ed25519 key/],
    ['a JWK for encryption', { publicKeys: [{ ...ed.jwk, use: 'enc' }] }, /use must be "sig"/],
    ['two keys with one kid', { publicKeys: [ed.jwk, { ...generateKey('ES256').jwk, kid: ed.kid }] }, /two keys with one kid/],
    ['revocation with neither databaseUrl nor database', { revocation: {} }, /revocation needs exactly one of databaseUrl and database/],
    ['revocation with a URL that is not postgres', { revocation: { databaseUrl: 'mysql://x/y' } }, /revocation.databaseUrl must be a postgres:\/\/ URL/],
    ['revocation with a malformed accessTokenTtl', { revocation: { databaseUrl: 'postgres://x/y', accessTokenTtl: '15 minutes' } }, /revocation.accessTokenTtl/],
    ['a cooldown under a second', { jwks: { cooldown: 0 } }, /jwks.cooldown must be a number of seconds, at least 1/],
    ['a clock without now()', { clock: {} as never }, /clock must have a now\(\)/],
  ])('refuses %s', async (_name, overrides, message) => {
    const app = Fastify();
    await expect(app.register(verifyPlugin, { ...base, ...overrides } as VerifyOptions).ready()).rejects.toThrow(message);
    await app.close();
  });

  describe('publicKeys', () => {
    const ec = generateKey('ES256');
    const clock = testClock();
    let server: Awaited<ReturnType<typeof resourceServer>>;
    beforeAll(async () => {
      // A JWK as published, and a PEM (no kid: its RFC 7638 thumbprint, as the service derives it).
      server = await resourceServer({ ...base, publicKeys: [ed.jwk, ec.publicPem], clock });
    });
    afterAll(() => server.app.close());

    it.each<[string, () => TestKey]>([
      ['a JWK', () => ed],
      ['an SPKI PEM (kid = thumbprint)', () => ec],
    ])('verifies tokens of %s', async (_name, key) => {
      const res = await orders(server.app, sign(key(), accessClaims(clock.now())));
      expect(res.statusCode, res.body).toBe(200);
    });

    it('refuses a token of another key, without fetching anything', async () => {
      const res = await orders(server.app, sign(generateKey('EdDSA'), accessClaims(clock.now())));
      expect(problem(res).code).toBe('token_invalid');
    });
  });

  it('decorators renames authenticate and request.user', async () => {
    const app = Fastify();
    await app.register(verifyPlugin, { ...base, decorators: { authenticate: 'verifyAccessToken', user: 'account' } });
    const decorated = app as unknown as { verifyAccessToken: never };
    app.get('/x', { onRequest: decorated.verifyAccessToken }, async (request) => ({ sub: (request as unknown as { account: { sub: string } }).account.sub }));
    await app.ready();
    const claims = accessClaims(Date.now());
    const res = await app.inject({ method: 'GET', url: '/x', headers: { authorization: `Bearer ${sign(ed, claims)}` } });
    expect(res.json()).toEqual({ sub: claims.sub });
    expect(app.hasDecorator('authenticate')).toBe(false);
    await app.close();
  });
});
