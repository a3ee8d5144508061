import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AuthError } from '../../src/errors.js';
import { createTestTokens, decodeJwt, testClock, testConfig } from '../helper.js';
import { accessJwtConfig, newAccessKey } from '../support/access-keys.js';

const session = () => ({ userId: randomUUID(), sessionId: randomUUID(), refreshTokenVersion: 0, email: 'alice@example.com' });
const tokensWith = (jwt: ReturnType<typeof accessJwtConfig>, clock = testClock()) => createTestTokens(testConfig({ jwt, clock }));

function expectInvalid(verify: () => unknown): void {
  let caught: unknown;
  try {
    verify();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(AuthError);
  expect((caught as AuthError).code).toBe('token_invalid');
}

describe.each(['EdDSA', 'ES256'] as const)('access tokens with %s', (algorithm) => {
  const signing = newAccessKey(algorithm);
  const older = newAccessKey(algorithm);

  it('signs with the first key: header {alg, typ: at+jwt, kid: its RFC 7638 thumbprint}, an 86-character signature', async () => {
    const tokens = await tokensWith(accessJwtConfig(algorithm, [signing.pem, older.pem]));
    const token = tokens.issueAccess(session());
    expect(decodeJwt(token).header).toStrictEqual({ alg: algorithm, typ: 'at+jwt', kid: signing.kid });
    expect(token.split('.')[2]).toHaveLength(86);
    expect(tokens.verifyAccess(token).email).toBe('alice@example.com');
  });

  it('keeps refresh tokens HS256 under the refresh secret', async () => {
    const tokens = await tokensWith(accessJwtConfig(algorithm, [signing.pem]));
    const refresh = tokens.issueRefresh({ ...session(), jti: randomUUID(), expiresAt: testClock().now() + 86_400_000 });
    expect(decodeJwt(refresh).header.alg).toBe('HS256');
    expect(tokens.verifyRefresh(refresh).jti).toBeDefined();
    expectInvalid(() => tokens.verifyAccess(refresh));
    expectInvalid(() => tokens.verifyRefresh(tokens.issueAccess(session())));
  });

  it('derives the same kid on another instance (or after a restart) from the same key file', async () => {
    const first = await tokensWith(accessJwtConfig(algorithm, [signing.pem]));
    const second = await tokensWith(accessJwtConfig(algorithm, [signing.pem]));
    const token = first.issueAccess(session());
    expect(decodeJwt(second.issueAccess(session())).header.kid).toBe(decodeJwt(token).header.kid);
    expect(second.verifyAccess(token).sub).toBe(decodeJwt(token).payload.sub);
  });

  it('verifies a token of every key in the ring, publishes them all signing key first, and refuses one of a removed key', async () => {
    const clock = testClock();
    const before = await tokensWith(accessJwtConfig(algorithm, [older.pem]), clock);
    const old = before.issueAccess(session());
    const rotated = await tokensWith(accessJwtConfig(algorithm, [signing.pem, older.pem]), clock);
    expect(rotated.verifyAccess(old).sub).toBe(decodeJwt(old).payload.sub);
    expect(rotated.jwks.keys.map((key) => key.kid)).toEqual([signing.kid, older.kid]);
    const after = await tokensWith(accessJwtConfig(algorithm, [signing.pem]), clock);
    expectInvalid(() => after.verifyAccess(old));
  });

  it("remembers a verified token in fast-jwt's cache, still checking its times", async () => {
    const clock = testClock();
    const tokens = await tokensWith(accessJwtConfig(algorithm, [signing.pem]), clock);
    const token = tokens.issueAccess(session());
    const claims = tokens.verifyAccess(token);
    expect(tokens.verifyAccess(token)).toBe(claims);
    clock.advance(900 + 30);
    expect(() => tokens.verifyAccess(token)).toThrow(AuthError);
  });
});

describe('the JWKS of the token service', () => {
  it('is empty with HS256', async () => {
    expect((await tokensWith(accessJwtConfig('HS256'))).jwks).toEqual({ keys: [] });
  });
});

/** The order of P-256's group. */
const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

describe('ES256 signature malleability', () => {
  it('accepts the (r, n − s) twin of a signature: ECDSA allows both, as every JOSE library does (docs/tokens.md)', async () => {
    const key = newAccessKey('ES256');
    const tokens = await tokensWith(accessJwtConfig('ES256', [key.pem]));
    const token = tokens.issueAccess(session());
    const [input, signature] = [token.slice(0, token.lastIndexOf('.')), Buffer.from(token.split('.')[2]!, 'base64url')];
    const s = BigInt(`0x${signature.subarray(32).toString('hex')}`);
    const twin = Buffer.concat([signature.subarray(0, 32), Buffer.from((P256_N - s).toString(16).padStart(64, '0'), 'hex')]);
    const respelled = `${input}.${twin.toString('base64url')}`;
    expect(respelled).not.toBe(token);
    expect(tokens.verifyAccess(respelled)).toEqual(tokens.verifyAccess(token));
  });
});
