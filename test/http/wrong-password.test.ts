import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestApp, expectRefusedWithoutWrites, loginWith, problem, register, type TestApp } from '../helper.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(() => t.close());

describe('a wrong password from a signed-in user', () => {
  it.each<[string, (accessToken: string) => InjectOptions]>([
    ['POST /auth/password', (token) => ({ method: 'POST', url: '/auth/password', headers: bearer(token), payload: { currentPassword: 'not my password', newPassword: 'a brand new passphrase' } })],
    ['DELETE /me', (token) => ({ method: 'DELETE', url: '/me', headers: bearer(token), payload: { password: 'not my password' } })],
  ])('on %s is 401 invalid_credentials titled "Invalid password" (the email is not in question), changing nothing', async (_route, request) => {
    const { accessToken } = await register(t.app);
    const res = await expectRefusedWithoutWrites(t.database, () => t.app.inject(request(accessToken)), { status: 401, code: 'invalid_credentials' });
    expect(problem(res)).toEqual({ type: 'about:blank', status: 401, title: 'Invalid password', code: 'invalid_credentials' });
  });

  it('leaves the login answer as it was: "Invalid email or password"', async () => {
    const { email } = await register(t.app);
    expect(problem(await loginWith(t.app, email, 'not my password')).title).toBe('Invalid email or password');
  });
});
