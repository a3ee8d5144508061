import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { algorithmOfKey, jwksKey, jwkThumbprint, publicJwk } from '../../src/tokens/jwk.js';

/** RFC 8037 appendix A.1 (the Ed25519 key) and A.3 (its thumbprint). */
const RFC8037 = {
  d: 'nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A',
  x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo',
  thumbprint: 'kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k',
};

describe('jwkThumbprint (RFC 7638)', () => {
  it("gives RFC 8037's thumbprint for its example Ed25519 key", () => {
    expect(jwkThumbprint({ kty: 'OKP', crv: 'Ed25519', x: RFC8037.x })).toBe(RFC8037.thumbprint);
  });

  it('gives the same thumbprint from the private key and from its public half', () => {
    const key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: RFC8037.d, x: RFC8037.x }, format: 'jwk' });
    expect(jwkThumbprint(publicJwk(key))).toBe(RFC8037.thumbprint);
    expect(jwkThumbprint(publicJwk(createPublicKey(key)))).toBe(RFC8037.thumbprint);
    expect(jwksKey(key).kid).toBe(RFC8037.thumbprint);
  });

  it('hashes exactly {"crv","kty","x","y"} for a P-256 key', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = publicJwk(privateKey);
    if (jwk.kty !== 'EC') throw new Error('expected an EC key');
    const canonical = `{"crv":"P-256","kty":"EC","x":"${jwk.x}","y":"${jwk.y}"}`;
    expect(jwkThumbprint(jwk)).toBe(createHash('sha256').update(canonical).digest('base64url'));
  });
});

describe('jwksKey', () => {
  it('publishes an Ed25519 key as {kty, crv, x, kid, alg, use} and never d', () => {
    const key = createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', d: RFC8037.d, x: RFC8037.x }, format: 'jwk' });
    const entry = jwksKey(key);
    expect(entry).toStrictEqual({ kty: 'OKP', crv: 'Ed25519', x: RFC8037.x, kid: RFC8037.thumbprint, alg: 'EdDSA', use: 'sig' });
    expect(JSON.stringify(entry)).not.toContain(RFC8037.d);
  });

  it('publishes a P-256 key as {kty, crv, x, y, kid, alg, use} and never d', () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const { d } = privateKey.export({ format: 'jwk' });
    const entry = jwksKey(privateKey);
    expect(Object.keys(entry)).toEqual(['kty', 'crv', 'x', 'y', 'kid', 'alg', 'use']);
    expect(entry).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(JSON.stringify(entry)).not.toContain(d);
  });

  it.each([
    ['RSA', () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey],
    ['P-384', () => generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey],
    ['secp256k1', () => generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey],
    ['Ed448', () => generateKeyPairSync('ed448').privateKey],
  ])('refuses a %s key (no algorithm of ours)', (_name, make) => {
    const key = make();
    expect(algorithmOfKey(key)).toBeUndefined();
    expect(() => jwksKey(key)).toThrow(/Ed25519 and P-256/);
  });
});
