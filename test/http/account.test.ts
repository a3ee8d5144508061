import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  buildTestApp,
  decodeJwt,
  me,
  PASSWORD,
  problem,
  loginWith,
  refreshWith,
  register,
  snapshot,
  expectRefusedWithoutWrites,
  type TestApp,
  type TokenBody,
  revokedEventually,
} from '../helper.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(() => t.close());

const NEW_PASSWORD = 'a brand new passphrase';

async function loginOk(email: string, password = PASSWORD): Promise<TokenBody> {
  const res = await loginWith(t.app, email, password);
  if (res.statusCode !== 200) throw new Error(`login failed: ${res.statusCode} ${res.body}`);
  return res.json();
}

const changePassword = (accessToken: string | undefined, payload?: unknown) =>
  t.app.inject({
    method: 'POST',
    url: '/auth/password',
    ...(accessToken === undefined ? {} : { headers: bearer(accessToken) }),
    ...(payload === undefined ? {} : { payload: payload as object }),
  });

const deleteMe = (accessToken: string | undefined, payload?: unknown) =>
  t.app.inject({
    method: 'DELETE',
    url: '/me',
    ...(accessToken === undefined ? {} : { headers: bearer(accessToken) }),
    ...(payload === undefined ? {} : { payload: payload as object }),
  });

const claims = (token: string) => decodeJwt(token).payload;

async function expectRefused(refreshToken: string, code = 'token_revoked') {
  const res = await refreshWith(t.app, refreshToken);
  expect(res.statusCode).toBe(401);
  expect(problem(res).code).toBe(code);
}

describe('POST /auth/password', () => {
  it('answers 200 with a non-cached token response for a new session at the next refresh token version', async () => {
    const laptop = await register(t.app);
    const res = await changePassword(laptop.accessToken, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(['accessToken', 'expiresIn', 'refreshExpiresIn', 'refreshToken', 'tokenType', 'user']);
    expect(body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, refreshExpiresIn: 30 * 86400, user: laptop.user });

    const before = claims(laptop.accessToken);
    const access = claims(body.accessToken);
    const refresh = claims(body.refreshToken);
    expect(access.sid).not.toBe(before.sid);
    expect(refresh.sid).toBe(access.sid);
    expect(access.refreshTokenVersion).toBe((before.refreshTokenVersion as number) + 1);
    expect(refresh.refreshTokenVersion).toBe((before.refreshTokenVersion as number) + 1);

    const { users, sessions } = await snapshot(t.database);
    expect(users.find((u) => u.id === laptop.user.id)?.refreshTokenVersion).toBe(1);
    expect(sessions.find((s) => s.id === access.sid)).toMatchObject({ userId: laptop.user.id, refreshTokenVersion: 1, revokedAt: null });
  });

  it('counts the version up from where it was, not from zero', async () => {
    const laptop = await register(t.app);
    expect((await t.app.inject({ method: 'POST', url: '/auth/logout-all', headers: bearer(laptop.accessToken) })).statusCode).toBe(200);
    const fresh = await loginOk(laptop.email);
    expect(claims(fresh.accessToken).refreshTokenVersion).toBe(1);
    const res = await changePassword(fresh.accessToken, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    expect(res.statusCode).toBe(200);
    expect(claims(res.json().accessToken).refreshTokenVersion).toBe(2);
    expect(claims(res.json().refreshToken).refreshTokenVersion).toBe(2);
  });

  it('makes the new password the one that signs in, and the old one invalid_credentials', async () => {
    const { email, accessToken } = await register(t.app);
    expect((await changePassword(accessToken, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD })).statusCode).toBe(200);
    expect((await loginWith(t.app, email, NEW_PASSWORD)).statusCode).toBe(200);
    const old = await loginWith(t.app, email, PASSWORD);
    expect(old.statusCode).toBe(401);
    expect(problem(old).code).toBe('invalid_credentials');
  });

  it("refuses every refresh token from before, this device's and the others', while the new one refreshes", async () => {
    const laptop = await register(t.app);
    const phone = await loginOk(laptop.email);
    const tablet = await loginOk(laptop.email);
    // A token spent just now would be honoured within the reuse grace, but not across a password change.
    const rotated = (await refreshWith(t.app, tablet.refreshToken)).json() as TokenBody;

    const res = await changePassword(laptop.accessToken, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    expect(res.statusCode).toBe(200);

    for (const old of [laptop.refreshToken, phone.refreshToken, tablet.refreshToken, rotated.refreshToken]) await expectRefused(old);
    const next = await refreshWith(t.app, res.json().refreshToken);
    expect(next.statusCode).toBe(200);
    expect(claims(next.json().refreshToken).sid).toBe(claims(res.json().accessToken).sid);
  });

  it('leaves only the new session listed', async () => {
    const laptop = await register(t.app);
    await loginOk(laptop.email);
    const res = await changePassword(laptop.accessToken, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD });
    const { accessToken } = res.json();
    const list = await t.app.inject({ method: 'GET', url: '/auth/sessions', headers: bearer(accessToken) });
    expect(list.statusCode).toBe(200);
    expect(list.json().sessions.map((s: { id: string; current: boolean }) => [s.id, s.current])).toEqual([[claims(accessToken).sid, true]]);
  });

  it('refuses access tokens from before as revoked (ACCESS_TOKEN_REVOCATION=instant), and they expire all the same', async () => {
    const laptop = await register(t.app);
    const phone = await loginOk(laptop.email);
    expect((await changePassword(laptop.accessToken, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD })).statusCode).toBe(200);

    for (const token of [laptop.accessToken, phone.accessToken]) await revokedEventually(t.app, token);
    t.clock.advance(900 + 30);
    for (const token of [laptop.accessToken, phone.accessToken]) {
      const res = await me(t.app, token);
      expect(res.statusCode).toBe(401);
      expect(problem(res).code).toBe('token_expired');
    }
  });

  it.each<[string, number, string, { token?: boolean; payload?: unknown }, string?]>([
    ['a wrong current password', 401, 'invalid_credentials', { payload: { currentPassword: 'not my password', newPassword: NEW_PASSWORD } }],
    ['a new password of 7 characters', 400, 'validation_failed', { payload: { currentPassword: PASSWORD, newPassword: '1234567' } }, '/newPassword'],
    ['a new password of 129 characters', 400, 'validation_failed', { payload: { currentPassword: PASSWORD, newPassword: 'x'.repeat(129) } }, '/newPassword'],
    ['a new password with a control character', 400, 'validation_failed', { payload: { currentPassword: PASSWORD, newPassword: 'abc\u0000defgh' } }, '/newPassword'],
    ['a missing current password', 400, 'validation_failed', { payload: { newPassword: NEW_PASSWORD } }, '/currentPassword'],
    ['a missing new password', 400, 'validation_failed', { payload: { currentPassword: PASSWORD } }, '/newPassword'],
    ['an empty object', 400, 'validation_failed', { payload: {} }],
    ['no body at all', 400, 'validation_failed', {}],
    ['no access token', 401, 'token_missing', { token: false, payload: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD } }],
  ])('refuses %s with %i %s and changes nothing', async (_name, status, code, { token = true, payload }, path) => {
    const user = await register(t.app);
    const res = await expectRefusedWithoutWrites(t.database, () => changePassword(token ? user.accessToken : undefined, payload), { status, code, path });
    if (code === 'token_missing') expect(res.headers['www-authenticate']).toBe('Bearer');
    expect((await refreshWith(t.app, user.refreshToken)).statusCode).toBe(200);
  });
});

describe('DELETE /me', () => {
  it('answers 204 and deletes the user and every session: refresh tokens die, login fails, the rows are gone', async () => {
    const laptop = await register(t.app);
    const phone = await loginOk(laptop.email);
    const bystander = await register(t.app);

    const res = await deleteMe(laptop.accessToken, { password: PASSWORD });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');

    for (const token of [laptop.refreshToken, phone.refreshToken]) await expectRefused(token);
    const signIn = await loginWith(t.app, laptop.email);
    expect(signIn.statusCode).toBe(401);
    expect(problem(signIn).code).toBe('invalid_credentials');

    const { users, sessions } = await snapshot(t.database);
    expect(users.filter((u) => u.id === laptop.user.id || u.email === laptop.email)).toEqual([]);
    expect(sessions.filter((s) => s.userId === laptop.user.id)).toEqual([]);
    // Nobody else is touched.
    expect(users.some((u) => u.id === bystander.user.id)).toBe(true);
    expect((await refreshWith(t.app, bystander.refreshToken)).statusCode).toBe(200);
  });

  it('frees the email: the same address can register again, as a new account', async () => {
    const old = await register(t.app);
    expect((await deleteMe(old.accessToken, { password: PASSWORD })).statusCode).toBe(204);
    const res = await t.app.inject({ method: 'POST', url: '/auth/register', payload: { email: old.email, password: NEW_PASSWORD } });
    expect(res.statusCode).toBe(201);
    expect(res.json().user.id).not.toBe(old.user.id);
    // The old account's refresh tokens do not come back to life with the new one.
    await expectRefused(old.refreshToken);
  });

  it.each<[string, number, string, { token?: boolean; payload?: unknown }, string?]>([
    ['a wrong password', 401, 'invalid_credentials', { payload: { password: 'not my password' } }],
    ['no body at all', 400, 'validation_failed', {}],
    ['an empty object', 400, 'validation_failed', { payload: {} }, '/password'],
    ['a password that is not a string', 400, 'validation_failed', { payload: { password: 12345678 } }, '/password'],
    ['no access token', 401, 'token_missing', { token: false, payload: { password: PASSWORD } }],
  ])('refuses %s with %i %s and deletes nothing', async (_name, status, code, { token = true, payload }, path) => {
    const user = await register(t.app);
    const res = await expectRefusedWithoutWrites(t.database, () => deleteMe(token ? user.accessToken : undefined, payload), { status, code, path });
    if (code === 'token_missing') expect(res.headers['www-authenticate']).toBe('Bearer');
    expect((await loginWith(t.app, user.email)).statusCode).toBe(200);
  });
});

describe('a deleted account', () => {
  it.each([
    ['POST /auth/password', (token: string) => changePassword(token, { currentPassword: PASSWORD, newPassword: NEW_PASSWORD })],
    ['DELETE /me', (token: string) => deleteMe(token, { password: PASSWORD })],
  ])("answers its still-valid access token with 401 token_revoked on %s, writing nothing", async (_name, call) => {
    const gone = await register(t.app);
    expect((await deleteMe(gone.accessToken, { password: PASSWORD })).statusCode).toBe(204);
    // Whether or not the revocation feed has brought the deletion yet (the route reads the
    // database anyway), nothing can be done to an account that no longer exists.
    const before = await snapshot(t.database);
    const res = await call(gone.accessToken);
    expect(res.statusCode).toBe(401);
    expect(problem(res).code).toBe('token_revoked');
    expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    expect(await snapshot(t.database)).toEqual(before);
  });

  it('stays deleted when the same email registers again: the old access token is still refused', async () => {
    const gone = await register(t.app);
    expect((await deleteMe(gone.accessToken, { password: PASSWORD })).statusCode).toBe(204);
    await register(t.app, gone.email);
    const before = await snapshot(t.database);
    const res = await deleteMe(gone.accessToken, { password: PASSWORD });
    expect(res.statusCode).toBe(401);
    expect(problem(res).code).toBe('token_revoked');
    expect(await snapshot(t.database)).toEqual(before);
    expect((await loginWith(t.app, gone.email)).statusCode).toBe(200);
  });
});
