import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revocations } from '../../src/db/schema.js';
import { createUsersRepository } from '../../src/db/users.js';
import {
  bearer,
  buildTestApp,
  decodeJwt,
  expectRefusedWithoutWrites,
  loginWith,
  PASSWORD,
  refreshWith,
  register,
  snapshot,
  type TestApp,
  type TokenBody,
} from '../helper.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(() => t.close());

const sidOf = (token: string) => decodeJwt(token).payload.sid as string;

/** The revocation rows a request added, without their ids. */
async function rowsWrittenBy(send: () => Promise<{ statusCode: number; body: string }>, status: number) {
  const before = (await snapshot(t.database)).revocations.length;
  const res = await send();
  if (res.statusCode !== status) throw new Error(`expected ${status}, got ${res.statusCode}: ${res.body}`);
  const rows = (await snapshot(t.database)).revocations.slice(before);
  return rows.map(({ id: _id, ...row }) => row);
}

const at = () => new Date(t.clock.now());

describe('every revocation writes exactly its row, on the injected clock', () => {
  it('logout-all: the user\'s new lowest valid version', async () => {
    const user = await register(t.app);
    t.clock.advance(7);
    const rows = await rowsWrittenBy(() => t.app.inject({ method: 'POST', url: '/auth/logout-all', headers: bearer(user.accessToken) }), 200);
    expect(rows).toEqual([{ kind: 'user_version', userId: user.user.id, sessionId: null, refreshTokenVersion: 1, createdAt: at() }]);
  });

  it('password change: the new version', async () => {
    const user = await register(t.app);
    const rows = await rowsWrittenBy(
      () =>
        t.app.inject({
          method: 'POST',
          url: '/auth/password',
          headers: bearer(user.accessToken),
          payload: { currentPassword: PASSWORD, newPassword: 'another correct horse' },
        }),
      200,
    );
    expect(rows).toEqual([{ kind: 'user_version', userId: user.user.id, sessionId: null, refreshTokenVersion: 1, createdAt: at() }]);
  });

  it('DELETE /me: the user deleted', async () => {
    const user = await register(t.app);
    const rows = await rowsWrittenBy(
      () => t.app.inject({ method: 'DELETE', url: '/me', headers: bearer(user.accessToken), payload: { password: PASSWORD } }),
      204,
    );
    expect(rows).toEqual([{ kind: 'user_deleted', userId: user.user.id, sessionId: null, refreshTokenVersion: null, createdAt: at() }]);
  });

  it('logout (refresh token or access token): the session; a second logout writes nothing', async () => {
    const user = await register(t.app);
    const rows = await rowsWrittenBy(() => t.app.inject({ method: 'POST', url: '/auth/logout', payload: { refreshToken: user.refreshToken } }), 204);
    const session = { kind: 'session', userId: user.user.id, sessionId: sidOf(user.accessToken), refreshTokenVersion: null, createdAt: at() };
    expect(rows).toEqual([session]);
    expect(await rowsWrittenBy(() => t.app.inject({ method: 'POST', url: '/auth/logout', payload: { refreshToken: user.refreshToken } }), 204)).toEqual([]);

    const second = (await loginWith(t.app, user.email)).json() as TokenBody;
    const viaAccess = await rowsWrittenBy(() => t.app.inject({ method: 'POST', url: '/auth/logout', headers: bearer(second.accessToken) }), 204);
    expect(viaAccess).toEqual([{ ...session, sessionId: sidOf(second.accessToken) }]);
  });

  it('DELETE /auth/sessions/:id: that session', async () => {
    const user = await register(t.app);
    const phone = (await loginWith(t.app, user.email)).json() as TokenBody;
    const rows = await rowsWrittenBy(
      () => t.app.inject({ method: 'DELETE', url: `/auth/sessions/${sidOf(phone.accessToken)}`, headers: bearer(user.accessToken) }),
      204,
    );
    expect(rows).toEqual([{ kind: 'session', userId: user.user.id, sessionId: sidOf(phone.accessToken), refreshTokenVersion: null, createdAt: at() }]);
  });

  it('logout-others: one row per session it ended, none for the caller\'s', async () => {
    const user = await register(t.app);
    const phone = (await loginWith(t.app, user.email)).json() as TokenBody;
    const tablet = (await loginWith(t.app, user.email)).json() as TokenBody;
    const rows = await rowsWrittenBy(() => t.app.inject({ method: 'POST', url: '/auth/logout-others', headers: bearer(user.accessToken) }), 200);
    const ended = [sidOf(phone.accessToken), sidOf(tablet.accessToken)].sort();
    expect(rows.map((r) => r.sessionId).sort()).toEqual(ended);
    expect(rows.every((r) => r.kind === 'session' && r.userId === user.user.id && r.createdAt.getTime() === t.clock.now())).toBe(true);
    // Nobody left to sign out: nothing written.
    expect(await rowsWrittenBy(() => t.app.inject({ method: 'POST', url: '/auth/logout-others', headers: bearer(user.accessToken) }), 200)).toEqual([]);
  });

  it('refresh token reuse: the session it revokes, once', async () => {
    const user = await register(t.app);
    const rotated = await refreshWith(t.app, user.refreshToken);
    expect(rotated.statusCode).toBe(200);
    t.clock.advance(60); // past the reuse grace
    const rows = await rowsWrittenBy(() => refreshWith(t.app, user.refreshToken), 401);
    expect(rows).toEqual([{ kind: 'session', userId: user.user.id, sessionId: sidOf(user.accessToken), refreshTokenVersion: null, createdAt: at() }]);
    expect(await rowsWrittenBy(() => refreshWith(t.app, user.refreshToken), 401)).toEqual([]);
  });

  it('sign-in, refresh and reading are no revocation', async () => {
    const user = await register(t.app);
    expect(await rowsWrittenBy(() => loginWith(t.app, user.email), 200)).toEqual([]);
    expect(await rowsWrittenBy(() => refreshWith(t.app, user.refreshToken), 200)).toEqual([]);
    expect(await rowsWrittenBy(() => t.app.inject({ method: 'GET', url: '/me', headers: bearer(user.accessToken) }), 200)).toEqual([]);
  });
});

describe('a refused request writes no revocation', () => {
  it.each([
    ['logout-all with a token from before the last one', 'POST', '/auth/logout-all', undefined, 401, 'token_revoked'],
    ['DELETE /me with the wrong password', 'DELETE', '/me', { password: 'not the password at all' }, 401, 'invalid_credentials'],
    ['password change with the wrong password', 'POST', '/auth/password', { currentPassword: 'not the password at all', newPassword: 'another correct horse' }, 401, 'invalid_credentials'],
    ['DELETE /auth/sessions/:id of an unknown session', 'DELETE', '/auth/sessions/00000000-0000-4000-8000-000000000000', undefined, 404, 'not_found'],
  ] as const)('%s', async (_name, method, url, payload, status, code) => {
    const user = await register(t.app);
    let token = user.accessToken;
    if (url === '/auth/logout-all') {
      const again = (await loginWith(t.app, user.email)).json() as TokenBody;
      await t.app.inject({ method: 'POST', url, headers: bearer(again.accessToken) });
      token = user.accessToken;
    }
    await expectRefusedWithoutWrites(t.database, () => t.app.inject({ method, url, headers: bearer(token), payload }), { status, code });
  });
});

describe('rows exist exactly when the change commits', () => {
  it('a change rolled back with its transaction leaves no revocation behind', async () => {
    const user = await register(t.app);
    const before = await snapshot(t.database);
    await expect(
      t.database.db.transaction(async (tx) => {
        expect(await createUsersRepository(tx).bumpRefreshTokenVersion(user.user.id, 0, at())).toBe(1);
        expect(await tx.select().from(revocations)).toHaveLength(before.revocations.length + 1);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(await snapshot(t.database)).toEqual(before);
  });
});
