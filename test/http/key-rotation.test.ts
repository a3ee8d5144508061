import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOCK_SKEW_SECONDS } from '../../src/tokens/index.js';
import { buildApp, buildTestApp, decodeJwt, loginWith, me, problem, refreshWith, register, type TestApp, type TokenBody } from '../helper.js';
import { accessJwtConfig, newAccessKey } from '../support/access-keys.js';

/**
 * The key rotation of docs/tokens.md, end to end, one app instance per deployed step, all on
 * one database and one injected clock: add the new key second (published, not signing),
 * wait for caches (the JWKS max-age), move it first (signing), and remove the old one once
 * ACCESS_TOKEN_TTL has passed. No token in flight is refused at any step.
 */
describe.each(['EdDSA', 'ES256'] as const)('access-key rotation with %s', (algorithm) => {
  const oldKey = newAccessKey(algorithm);
  const newKey = newAccessKey(algorithm);
  let t: TestApp;
  const apps: FastifyInstance[] = [];
  /** An instance deployed with `keys` (PEM), on the shared database and clock. */
  const deploy = async (keys: string[]) => {
    const app = await buildApp({ ...t.config, jwt: accessJwtConfig(algorithm, keys) }, { database: t.database });
    apps.push(app);
    return app;
  };
  const jwksKids = async (app: FastifyInstance) => {
    const res = await app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    return (res.json() as { keys: { kid: string }[] }).keys.map((key) => key.kid);
  };
  const kidOf = (token: string) => decodeJwt(token).header.kid;
  /** Every token still in flight is accepted by every instance named. */
  const expectAccepted = async (tokens: string[], ...instances: FastifyInstance[]) => {
    for (const app of instances) {
      for (const token of tokens) expect((await me(app, token)).statusCode, `kid ${kidOf(token)}`).toBe(200);
    }
  };

  beforeAll(async () => {
    t = await buildTestApp({ jwt: accessJwtConfig(algorithm, [oldKey.pem]), accessTokenRevocation: 'off' });
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await t.close();
  });

  it('never refuses a token in flight, publishes the right keys at each step, and refuses the old key once it is removed', async () => {
    // Step 0: [old].
    const step0 = t.app;
    const user: TokenBody & { email: string } = await register(step0);
    expect(kidOf(user.accessToken)).toBe(oldKey.kid);
    expect(await jwksKids(step0)).toEqual([oldKey.kid]);

    // Step 1: [old, new]: the new key is published, the old one still signs. Instances of
    // step 0 still run during the roll-out, and both accept what either issues.
    const step1 = await deploy([oldKey.pem, newKey.pem]);
    expect(await jwksKids(step1)).toEqual([oldKey.kid, newKey.kid]);
    const signedInStep1 = (await loginWith(step1, user.email)).json() as TokenBody;
    expect(kidOf(signedInStep1.accessToken)).toBe(oldKey.kid);
    await expectAccepted([user.accessToken, signedInStep1.accessToken], step0, step1);

    // Wait until every cache of the old JWKS has expired.
    t.clock.advance(300);

    // Step 2: [new, old]: the new key signs. Step-1 instances still run and know it.
    const step2 = await deploy([newKey.pem, oldKey.pem]);
    expect(await jwksKids(step2)).toEqual([newKey.kid, oldKey.kid]);
    const refreshed = (await refreshWith(step2, user.refreshToken)).json() as TokenBody;
    expect(kidOf(refreshed.accessToken)).toBe(newKey.kid);
    await expectAccepted([user.accessToken, signedInStep1.accessToken, refreshed.accessToken], step1, step2);
    // Why step 1 comes first: an instance that never published the new key refuses its tokens.
    const skipped = await me(step0, refreshed.accessToken);
    expect([skipped.statusCode, problem(skipped).code]).toEqual([401, 'token_invalid']);

    // Wait ACCESS_TOKEN_TTL (and the skew): every token of the old key has expired.
    t.clock.advance(t.config.jwt.accessTtl + CLOCK_SKEW_SECONDS);
    const expired = await me(step2, user.accessToken);
    expect([expired.statusCode, problem(expired).code]).toEqual([401, 'token_expired']);
    const inFlight = ((await refreshWith(step2, refreshed.refreshToken)).json() as TokenBody).accessToken;
    expect(kidOf(inFlight)).toBe(newKey.kid);

    // Step 3: [new]: the old key is gone from the JWKS and its tokens are refused as invalid.
    const step3 = await deploy([newKey.pem]);
    expect(await jwksKids(step3)).toEqual([newKey.kid]);
    await expectAccepted([inFlight], step2, step3);
    const removed = await me(step3, user.accessToken);
    expect([removed.statusCode, problem(removed).code]).toEqual([401, 'token_invalid']);
    // Refresh tokens are HS256 under JWT_REFRESH_SECRET: the session survives the rotation.
    const afterRotation = await refreshWith(step3, signedInStep1.refreshToken);
    expect(afterRotation.statusCode).toBe(200);
    expect(kidOf((afterRotation.json() as TokenBody).accessToken)).toBe(newKey.kid);
  });
});
