import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestApp, expectRefusedWithoutWrites, loginWith, PASSWORD, register, revokedEventually, type TestApp } from '../helper.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(() => t.close());

/** Every Bearer route that reads the database anyway, as a stale token's holder would call it. */
const routes: [string, (sessionId: string) => InjectOptions][] = [
  ['GET /auth/sessions', () => ({ method: 'GET', url: '/auth/sessions' })],
  ['DELETE /auth/sessions/:id', (sessionId) => ({ method: 'DELETE', url: `/auth/sessions/${sessionId}` })],
  ['POST /auth/logout-others', () => ({ method: 'POST', url: '/auth/logout-others' })],
  ['POST /auth/logout (Bearer)', () => ({ method: 'POST', url: '/auth/logout' })],
  ['POST /auth/logout-all', () => ({ method: 'POST', url: '/auth/logout-all' })],
  ['POST /auth/password', () => ({ method: 'POST', url: '/auth/password', payload: { currentPassword: PASSWORD, newPassword: 'a brand new passphrase' } })],
  ['DELETE /me', () => ({ method: 'DELETE', url: '/me', payload: { password: PASSWORD } })],
];

describe('an access token minted before logout-all, on routes that read the database', () => {
  it.each(routes)('%s answers 401 token_revoked with WWW-Authenticate and writes nothing', async (_route, request) => {
    const { email, accessToken: stale } = await register(t.app);
    const fresh = (await loginWith(t.app, email)).json();
    const other = (await loginWith(t.app, email)).json();
    // Sign out everywhere from one device; then sign in again so there is a live session to target.
    expect((await t.app.inject({ method: 'POST', url: '/auth/logout-all', headers: bearer(fresh.accessToken) })).statusCode).toBe(200);
    const after = (await loginWith(t.app, email)).json();
    const sessionId = JSON.parse(Buffer.from(after.accessToken.split('.')[1], 'base64url').toString()).sid as string;
    expect(other.accessToken).not.toBe(after.accessToken);

    const res = await expectRefusedWithoutWrites(
      t.database,
      () => t.app.inject({ ...request(sessionId), headers: bearer(stale) }),
      { status: 401, code: 'token_revoked' },
    );
    expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    // GET /me reads no database: the revocation feed refuses the stale token there too (ACCESS_TOKEN_REVOCATION=instant).
    await revokedEventually(t.app, stale);
    // The token minted after logout-all is current everywhere.
    expect((await t.app.inject({ method: 'GET', url: '/auth/sessions', headers: bearer(after.accessToken) })).statusCode).toBe(200);
  });
});

describe("a deleted account's access token, on routes that read the database", () => {
  it.each(routes)('%s answers 401 token_revoked and writes nothing', async (_route, request) => {
    const { email, accessToken } = await register(t.app);
    const survivor = (await loginWith(t.app, email)).json();
    expect((await t.app.inject({ method: 'DELETE', url: '/me', headers: bearer(survivor.accessToken), payload: { password: PASSWORD } })).statusCode).toBe(204);
    const sessionId = JSON.parse(Buffer.from(accessToken.split('.')[1]!, 'base64url').toString()).sid as string;
    await expectRefusedWithoutWrites(t.database, () => t.app.inject({ ...request(sessionId), headers: bearer(accessToken) }), {
      status: 401,
      code: 'token_revoked',
    });
  });
});
