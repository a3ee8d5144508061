import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, buildTestApp, decodeJwt, loginWith, onPostgres, PASSWORD, problem, refreshWith, register, type TestApp } from '../helper.js';

// PGlite answers one query at a time, so races there are mild; PostgreSQL runs them for real.
const ROUNDS = onPostgres ? 30 : 8;
const DEVICES = 3;
const CHAIN = 4;

let t: TestApp;
let instanceB: FastifyInstance;
beforeAll(async () => {
  t = await buildTestApp();
  instanceB = await t.another();
});
afterAll(() => t.close());

/** Refreshes `CHAIN` times in a row, each with the token the last one returned; collects every token seen. */
async function refreshChain(app: FastifyInstance, start: string, seen: string[]): Promise<void> {
  let token = start;
  for (let i = 0; i < CHAIN; i++) {
    const res = await refreshWith(app, token);
    if (res.statusCode !== 200) {
      expect(res.statusCode).toBe(401);
      expect(problem(res).code).toBe('token_revoked');
      return;
    }
    token = res.json().refreshToken;
    seen.push(token);
  }
}

describe('refresh racing logout-all', () => {
  it(`leaves no refresh token working once logout-all has committed (${ROUNDS} rounds, 2 instances)`, async () => {
    const { email, accessToken } = await register(t.app);
    let access = accessToken;
    for (let round = 0; round < ROUNDS; round++) {
      const devices = await Promise.all(Array.from({ length: DEVICES }, () => loginWith(t.app, email)));
      const starts = devices.map((res) => res.json().refreshToken as string);
      const seen = [...starts];
      const version = decodeJwt(starts[0]!).payload.refreshTokenVersion as number;

      // Refresh chains on both instances while instance B logs out everywhere, a little later each round.
      const chains = starts.map((start, i) => refreshChain(i % 2 ? instanceB : t.app, start, seen));
      const bump = new Promise<void>((resolve) => setTimeout(resolve, round % 5)).then(async () => {
        const res = await instanceB.inject({ method: 'POST', url: '/auth/logout-all', headers: bearer(access) });
        expect(res.statusCode).toBe(200);
        expect(res.json().refreshTokenVersion).toBe(version + 1);
      });
      await Promise.all([...chains, bump]);

      // Every token any racer ever held carries the old version and is refused, on either instance.
      for (const [i, token] of seen.entries()) {
        expect(decodeJwt(token).payload.refreshTokenVersion).toBe(version);
        const res = await refreshWith(i % 2 ? instanceB : t.app, token);
        expect(res.statusCode, `round ${round}, token ${i}`).toBe(401);
        expect(problem(res).code).toBe('token_revoked');
      }
      access = (await loginWith(t.app, email)).json().accessToken;
    }
  });
});

describe('refreshes racing with the same token', () => {
  it(`never answers 500 when spent and current tokens race each other (${ROUNDS} rounds, 2 instances)`, async () => {
    // The fast-path CAS and the slow path that judges a spent token lock the same user and
    // session rows; if they took them in different orders, PostgreSQL would abort one
    // with a deadlock. Two tabs and a retried request produce exactly this traffic.
    const { email } = await register(t.app);
    for (let round = 0; round < ROUNDS; round++) {
      const r0 = (await loginWith(t.app, email)).json().refreshToken as string;
      const first = await refreshWith(t.app, r0);
      expect(first.statusCode).toBe(200);
      const r1 = first.json().refreshToken as string;
      const results = await Promise.all([
        ...Array.from({ length: 4 }, (_, i) => refreshWith(i % 2 ? instanceB : t.app, r0)),
        ...Array.from({ length: 2 }, (_, i) => refreshWith(i % 2 ? t.app : instanceB, r1)),
      ]);
      const outcomes = results.map((r) => (r.statusCode === 200 ? 200 : problem(r).code));
      for (const outcome of outcomes) expect([200, 'refresh_token_reused', 'token_revoked']).toContain(outcome);
      // Once R1 has been rotated, R0 is two tokens old: reuse, which may end the session for everyone.
      expect(outcomes).toContain(200);
    }
  });

  it('all succeed within the grace, on the same session, converging on one current token', async () => {
    const { refreshToken } = await register(t.app);
    const results = await Promise.all(
      Array.from({ length: 6 }, (_, i) => refreshWith(i % 2 ? instanceB : t.app, refreshToken)),
    );
    expect(results.map((r) => r.statusCode)).toEqual(Array(6).fill(200));
    const claims = results.map((r) => decodeJwt(r.json().refreshToken).payload);
    const sid = decodeJwt(refreshToken).payload.sid;
    expect(new Set(claims.map((c) => c.sid))).toEqual(new Set([sid]));
    // Exactly one rotation happened: every racer holds the session's one current token.
    expect(new Set(claims.map((c) => c.jti)).size).toBe(1);
    expect((await refreshWith(t.app, results[0]!.json().refreshToken)).statusCode).toBe(200);
  });

  it('after the grace, a spent token presented twice at once revokes the session exactly as once', async () => {
    const { refreshToken } = await register(t.app);
    const winner = await refreshWith(t.app, refreshToken);
    expect(winner.statusCode).toBe(200);
    t.clock.advance(t.config.refreshReuseGrace + 1);
    const [a, b] = await Promise.all([refreshWith(t.app, refreshToken), refreshWith(instanceB, refreshToken)]);
    // The first to lock the session detects the reuse and revokes it; the other then finds it revoked.
    expect([problem(a).code, problem(b).code].sort()).toEqual(
      expect.arrayContaining(['refresh_token_reused']),
    );
    for (const res of [a, b]) expect(['refresh_token_reused', 'token_revoked']).toContain(problem(res).code);
    expect(problem(await refreshWith(t.app, winner.json().refreshToken)).code).toBe('token_revoked');
  });
});

describe('login racing account deletion', () => {
  it(`answers the login 200 or invalid_credentials, never 500 (${ROUNDS} rounds)`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { email, accessToken } = await register(t.app);
      const [signIn, deletion] = await Promise.all([
        loginWith(instanceB, email),
        t.app.inject({ method: 'DELETE', url: '/me', headers: bearer(accessToken), payload: { password: PASSWORD } }),
      ]);
      expect(deletion.statusCode).toBe(204);
      if (signIn.statusCode !== 200) expect(problem(signIn).code).toBe('invalid_credentials');
    }
  });
});
