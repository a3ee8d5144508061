import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bearer,
  buildTestApp,
  decodeJwt,
  expectOnlyNewEvents,
  me,
  PASSWORD,
  problem,
  loginWith,
  refreshWith,
  register,
  snapshot,
  uniqueEmail,
  type TestApp,
  revokedEventually,
} from '../helper.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(() => t.close());

describe('POST /auth/register', () => {
  it('creates the account and answers 201 with a token response that is not cached', async () => {
    const email = uniqueEmail();
    const res = await t.app.inject({ method: 'POST', url: '/auth/register', payload: { email, password: PASSWORD } });
    expect(res.statusCode).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json();
    expect(Object.keys(body).sort()).toEqual(['accessToken', 'expiresIn', 'refreshExpiresIn', 'refreshToken', 'tokenType', 'user']);
    expect(body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900, refreshExpiresIn: 30 * 86400, user: { email } });
    expect(body.user.id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('trims and lower-cases the email, and treats case variants as the same account', async () => {
    const email = uniqueEmail('MiXeD').toUpperCase();
    const res = await t.app.inject({ method: 'POST', url: '/auth/register', payload: { email: `  ${email}  `, password: PASSWORD } });
    expect(res.statusCode).toBe(201);
    expect(res.json().user.email).toBe(email.toLowerCase());
    const again = await t.app.inject({ method: 'POST', url: '/auth/register', payload: { email: email.toLowerCase(), password: PASSWORD } });
    expect(again.statusCode).toBe(409);
    expect(problem(again).code).toBe('email_taken');
  });

  it('stores an argon2id hash with the OWASP parameters, never the password', async () => {
    const { user } = await register(t.app);
    const { users } = await snapshot(t.database);
    const row = users.find((u) => u.id === user.id)!;
    expect(row.passwordHash).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
    expect(row.passwordHash).not.toContain(PASSWORD);
    expect(row.refreshTokenVersion).toBe(0);
  });

  it.each([
    ['a missing email', { password: PASSWORD }, '/email'],
    ['a missing password', { email: 'a@example.com' }, '/password'],
    ['an email that is not one', { email: 'not-an-email', password: PASSWORD }, '/email'],
    ['an email with a space inside', { email: 'a b@example.com', password: PASSWORD }, '/email'],
    ['an email over 254 characters', { email: `${'a'.repeat(60)}@${'b'.repeat(190)}.com`, password: PASSWORD }, '/email'],
    ['a password of 7 characters', { email: 'short@example.com', password: '1234567' }, '/password'],
    ['a password of 129 characters', { email: 'long@example.com', password: 'x'.repeat(129) }, '/password'],
    ['a password with a control character', { email: 'ctl@example.com', password: 'abc\u0000defgh' }, '/password'],
    ['a number for the email', { email: 42, password: PASSWORD }, '/email'],
  ])('refuses %s with 400 validation_failed naming the field, writing nothing', async (_name, payload, path) => {
    const before = await snapshot(t.database);
    const res = await t.app.inject({ method: 'POST', url: '/auth/register', payload });
    expect(res.statusCode).toBe(400);
    const body = problem(res);
    expect(body.code).toBe('validation_failed');
    expect(body.errors?.map((e) => e.path)).toContain(path);
    expect(JSON.stringify(body)).not.toContain(PASSWORD);
    expect(await snapshot(t.database)).toEqual(before);
  });

  it('accepts a 128-character password and never truncates it', async () => {
    const long = 'p'.repeat(127) + 'q';
    const { email } = await register(t.app, uniqueEmail(), long);
    expect((await loginWith(t.app, email, long)).statusCode).toBe(200);
    expect(problem(await loginWith(t.app, email, 'p'.repeat(127) + 'r')).code).toBe('invalid_credentials');
  });

  it('treats composed and decomposed Unicode as the same password (NFC)', async () => {
    const composed = 'ma\u00f1ana-secret';
    const decomposed = 'man\u0303ana-secret';
    const { email } = await register(t.app, uniqueEmail(), composed);
    expect((await loginWith(t.app, email, decomposed)).statusCode).toBe(200);
  });

  it('ignores unknown fields', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/auth/register',
      payload: { email: uniqueEmail(), password: PASSWORD, admin: true },
    });
    expect(res.statusCode).toBe(201);
  });
});

describe('POST /auth/login', () => {
  it('signs in with the right password and opens a new session', async () => {
    const { email, user } = await register(t.app);
    const res = await loginWith(t.app, ` ${email.toUpperCase()} `);
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json();
    expect(body.user).toEqual(user);
    const { sessions } = await snapshot(t.database);
    expect(sessions.filter((s) => s.userId === user.id)).toHaveLength(2);
  });

  it('answers an unknown email and a wrong password identically', async () => {
    const { email } = await register(t.app);
    const wrong = await loginWith(t.app, email, 'wrong password!');
    const unknown = await loginWith(t.app, uniqueEmail('nobody'));
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(unknown.body).toBe(wrong.body);
    const { date: _d1, ...wrongHeaders } = wrong.headers;
    const { date: _d2, ...unknownHeaders } = unknown.headers;
    expect(unknownHeaders).toEqual(wrongHeaders);
    expect(problem(wrong)).toEqual({
      type: 'about:blank',
      status: 401,
      title: 'Invalid email or password',
      code: 'invalid_credentials',
    });
  });

  it("writes nothing on a failed login but its security-log row", async () => {
    const { email, user } = await register(t.app);
    const before = await snapshot(t.database);
    expect((await loginWith(t.app, email, 'wrong password!')).statusCode).toBe(401);
    expectOnlyNewEvents(before, await snapshot(t.database), [{ userId: user.id, type: 'login', code: 'invalid_credentials', sessionId: null }]);
  });
});

describe('GET /me', () => {
  it('answers from the access token alone', async () => {
    const { accessToken, user } = await register(t.app);
    const res = await me(t.app, accessToken);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ id: user.id, email: user.email, sessionId: decodeJwt(accessToken).payload.sid });
  });

  it('accepts the scheme in any case', async () => {
    const { accessToken } = await register(t.app);
    expect((await t.app.inject({ method: 'GET', url: '/me', headers: { authorization: `bearer ${accessToken}` } })).statusCode).toBe(200);
  });

  it('answers 401 token_missing with a bare Bearer challenge when there is no token', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/me' });
    expect(res.statusCode).toBe(401);
    expect(problem(res).code).toBe('token_missing');
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });

  it.each([
    ['another scheme', 'Basic dXNlcjpwYXNz'],
    ['a bare scheme', 'Bearer'],
    ['garbage', 'Bearer not.a.jwt'],
    ['two spaces', 'Bearer  x.y.z'],
  ])('answers 401 token_invalid with error="invalid_token" for %s', async (_name, authorization) => {
    const res = await t.app.inject({ method: 'GET', url: '/me', headers: { authorization } });
    expect(res.statusCode).toBe(401);
    expect(problem(res).code).toBe('token_invalid');
    expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  });

  it('refuses a refresh token used as an access token', async () => {
    const { refreshToken } = await register(t.app);
    expect(problem(await me(t.app, refreshToken)).code).toBe('token_invalid');
  });

  it('keeps working until exp plus the 30 s skew, then answers token_expired', async () => {
    const { accessToken } = await register(t.app);
    t.clock.advance(900 + 29);
    expect((await me(t.app, accessToken)).statusCode).toBe(200);
    t.clock.advance(1);
    const res = await me(t.app, accessToken);
    expect(res.statusCode).toBe(401);
    expect(problem(res).code).toBe('token_expired');
    expect(res.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
  });
});

describe('POST /auth/refresh', () => {
  it('rotates: returns a new pair for the same session and spends the presented token', async () => {
    const first = await register(t.app);
    t.clock.advance(60);
    const res = await refreshWith(t.app, first.refreshToken);
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const second = res.json();
    expect(second.refreshToken).not.toBe(first.refreshToken);
    const a = decodeJwt(first.refreshToken).payload;
    const b = decodeJwt(second.refreshToken).payload;
    expect(b.sid).toBe(a.sid);
    expect(b.jti).not.toBe(a.jti);
    // Rotation never extends the session.
    expect(b.exp).toBe(a.exp);
    expect(second.refreshExpiresIn).toBe(30 * 86400 - 60);
    expect((await me(t.app, second.accessToken)).statusCode).toBe(200);
    expect((await refreshWith(t.app, second.refreshToken)).statusCode).toBe(200);
  });

  it('honours a spent token within the reuse grace with tokens for the same session', async () => {
    const first = await register(t.app);
    const winner = (await refreshWith(t.app, first.refreshToken)).json();
    t.clock.advance(10);
    const late = await refreshWith(t.app, first.refreshToken);
    expect(late.statusCode).toBe(200);
    const graced = late.json();
    expect(decodeJwt(graced.refreshToken).payload.sid).toBe(decodeJwt(first.refreshToken).payload.sid);
    // Both racers hold the session's current token: either may rotate next.
    expect(decodeJwt(graced.refreshToken).payload.jti).toBe(decodeJwt(winner.refreshToken).payload.jti);
    expect((await refreshWith(t.app, graced.refreshToken)).statusCode).toBe(200);
  });

  it('treats a spent token after the grace as theft: 401 refresh_token_reused and the session is revoked', async () => {
    const first = await register(t.app);
    const current = (await refreshWith(t.app, first.refreshToken)).json();
    t.clock.advance(11);
    const reuse = await refreshWith(t.app, first.refreshToken);
    expect(reuse.statusCode).toBe(401);
    expect(problem(reuse).code).toBe('refresh_token_reused');
    expect(reuse.headers['www-authenticate']).toBeUndefined();
    // The legitimate holder is out too: the whole device session is gone.
    expect(problem(await refreshWith(t.app, current.refreshToken)).code).toBe('token_revoked');
    const { sessions } = await snapshot(t.database);
    expect(sessions.find((s) => s.id === decodeJwt(first.refreshToken).payload.sid)?.revokedAt).toBeInstanceOf(Date);
  });

  it('treats a token two rotations old as reuse even within the grace', async () => {
    const first = await register(t.app);
    const second = (await refreshWith(t.app, first.refreshToken)).json();
    (await refreshWith(t.app, second.refreshToken)).json();
    expect(problem(await refreshWith(t.app, first.refreshToken)).code).toBe('refresh_token_reused');
  });

  it.each([
    ['just past the end, while the token is still within the clock skew', 5],
    ['past the end and the skew', 30],
  ])('refuses a refresh token %s with token_expired', async (_name, seconds) => {
    const first = await register(t.app);
    t.clock.advance(30 * 86400 + seconds);
    expect(problem(await refreshWith(t.app, first.refreshToken)).code).toBe('token_expired');
  });

  it.each([
    ['garbage', 'abc'],
    ['a token with a flipped signature character', 'flip'],
  ])('refuses %s with 401 token_invalid and writes nothing', async (_name, kind) => {
    const { refreshToken } = await register(t.app);
    const token = kind === 'flip' ? refreshToken.slice(0, -2) + (refreshToken.at(-2) === 'A' ? 'B' : 'A') + refreshToken.at(-1) : kind;
    const before = await snapshot(t.database);
    const res = await refreshWith(t.app, token);
    expect(res.statusCode).toBe(401);
    expect(problem(res).code).toBe('token_invalid');
    expect(await snapshot(t.database)).toEqual(before);
  });

  it('refuses an access token presented as a refresh token', async () => {
    const { accessToken } = await register(t.app);
    expect(problem(await refreshWith(t.app, accessToken)).code).toBe('token_invalid');
  });

  it.each([
    ['an empty object', {}],
    ['no body at all', undefined],
  ])('answers 401 token_missing for %s (no body token, no cookie)', async (_name, payload) => {
    const res = await t.app.inject({ method: 'POST', url: '/auth/refresh', ...(payload ? { payload } : {}) });
    expect(res.statusCode).toBe(401);
    expect(problem(res).code).toBe('token_missing');
  });

  it('answers 400 validation_failed for a refreshToken that is not a string', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: 42 } });
    expect(res.statusCode).toBe(400);
    expect(problem(res).code).toBe('validation_failed');
  });
});

describe('POST /auth/logout', () => {
  it('revokes this session with the refresh token in the body; other sessions live on', async () => {
    const { email, refreshToken } = await register(t.app);
    const other = (await loginWith(t.app, email)).json();
    const res = await t.app.inject({ method: 'POST', url: '/auth/logout', payload: { refreshToken } });
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect(problem(await refreshWith(t.app, refreshToken)).code).toBe('token_revoked');
    expect((await refreshWith(t.app, other.refreshToken)).statusCode).toBe(200);
  });

  it('revokes this session with a Bearer access token and no body', async () => {
    const { accessToken, refreshToken } = await register(t.app);
    const res = await t.app.inject({ method: 'POST', url: '/auth/logout', headers: bearer(accessToken) });
    expect(res.statusCode).toBe(204);
    expect(problem(await refreshWith(t.app, refreshToken)).code).toBe('token_revoked');
  });

  it('is idempotent', async () => {
    const { refreshToken } = await register(t.app);
    for (let i = 0; i < 2; i++) {
      expect((await t.app.inject({ method: 'POST', url: '/auth/logout', payload: { refreshToken } })).statusCode).toBe(204);
    }
  });

  it('answers 401 token_missing with a Bearer challenge when no credential is given', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/auth/logout' });
    expect(res.statusCode).toBe(401);
    expect(problem(res).code).toBe('token_missing');
    expect(res.headers['www-authenticate']).toBe('Bearer');
  });

  it('refuses a forged refresh token and revokes nothing', async () => {
    const { refreshToken } = await register(t.app);
    const before = await snapshot(t.database);
    const forged = refreshToken.slice(0, refreshToken.lastIndexOf('.') + 1) + 'x'.repeat(43);
    const res = await t.app.inject({ method: 'POST', url: '/auth/logout', payload: { refreshToken: forged } });
    expect(problem(res).code).toBe('token_invalid');
    expect(await snapshot(t.database)).toEqual(before);
  });
});

describe('POST /auth/logout-all', () => {
  it('bumps the version, refuses every older refresh token, and (ACCESS_TOKEN_REVOCATION=instant) every older access token', async () => {
    const { email, accessToken, refreshToken } = await register(t.app);
    const phone = (await loginWith(t.app, email)).json();
    const res = await t.app.inject({ method: 'POST', url: '/auth/logout-all', headers: bearer(accessToken) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ refreshTokenVersion: 1, revokedAt: new Date(t.clock.now()).toISOString() });

    for (const token of [refreshToken, phone.refreshToken]) {
      const refused = await refreshWith(t.app, token);
      expect(refused.statusCode).toBe(401);
      expect(problem(refused).code).toBe('token_revoked');
    }
    // Access tokens are refused as soon as the revocation feed brings the bump (off: they live until exp).
    await revokedEventually(t.app, phone.accessToken);
    t.clock.advance(900 + 30);
    expect(problem(await me(t.app, phone.accessToken)).code).toBe('token_expired');

    // Signing in again works, with the new version.
    const fresh = (await loginWith(t.app, email)).json();
    expect(decodeJwt(fresh.refreshToken).payload.refreshTokenVersion).toBe(1);
    expect(decodeJwt(fresh.accessToken).payload.refreshTokenVersion).toBe(1);
    expect((await refreshWith(t.app, fresh.refreshToken)).statusCode).toBe(200);
  });

  it('takes effect on every instance sharing the database', async () => {
    const other = await t.another();
    const { accessToken, refreshToken } = await register(t.app);
    expect((await other.inject({ method: 'POST', url: '/auth/logout-all', headers: bearer(accessToken) })).statusCode).toBe(200);
    expect(problem(await refreshWith(t.app, refreshToken)).code).toBe('token_revoked');
  });

  it('refuses a refresh token minted before a logout-all even within the reuse grace', async () => {
    const first = await register(t.app);
    await refreshWith(t.app, first.refreshToken);
    await t.app.inject({ method: 'POST', url: '/auth/logout-all', headers: bearer(first.accessToken) });
    expect(problem(await refreshWith(t.app, first.refreshToken)).code).toBe('token_revoked');
  });

  it('requires a Bearer access token', async () => {
    const { refreshToken } = await register(t.app);
    const res = await t.app.inject({ method: 'POST', url: '/auth/logout-all', payload: { refreshToken } });
    expect(res.statusCode).toBe(401);
    expect(problem(res).code).toBe('token_missing');
  });
});

describe('GET /health and GET /ready', () => {
  it('answers 200 ok on both while the database answers', async () => {
    for (const url of ['/health', '/ready']) {
      const res = await t.app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ status: 'ok' });
    }
  });
});

describe('errors', () => {
  it('answers an unknown route with 404 not_found as problem+json', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/nope' });
    expect(res.statusCode).toBe(404);
    expect(problem(res)).toEqual({ type: 'about:blank', status: 404, title: 'Not found', code: 'not_found' });
  });

  it('answers broken JSON with 400 invalid_json', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: '{"email":',
    });
    expect(res.statusCode).toBe(400);
    expect(problem(res).code).toBe('invalid_json');
  });

  it('answers a body that is not JSON with 415 unsupported_media_type', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/auth/login',
      headers: { 'content-type': 'text/plain' },
      payload: 'email=a&password=b',
    });
    expect(res.statusCode).toBe(415);
    expect(problem(res).code).toBe('unsupported_media_type');
  });

  it('answers a body over 16 KiB with 413 payload_too_large', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/auth/register',
      payload: { email: uniqueEmail(), password: PASSWORD, pad: 'x'.repeat(17 * 1024) },
    });
    expect(res.statusCode).toBe(413);
    expect(problem(res).code).toBe('payload_too_large');
  });

  it('refuses a prototype-poisoning body as invalid JSON', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/auth/login',
      headers: { 'content-type': 'application/json' },
      payload: '{"email":"a@example.com","password":"12345678","__proto__":{"x":1}}',
    });
    expect(problem(res).code).toBe('invalid_json');
  });
});
