import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { recordAuthEvent } from '../../src/db/auth-events.js';
import { PRUNE_LOCK, pruneNow, sessionRetentionSeconds } from '../../src/db/prune.js';
import { authEvents, sessions, signInAddresses } from '../../src/db/schema.js';
import { CLOCK_SKEW_SECONDS } from '../../src/tokens/index.js';
import {
  bearer,
  buildTestApp,
  decodeJwt,
  logCapture,
  onPostgres,
  problem,
  refreshWith,
  register,
  revokedEventually,
  testConfig,
  type TestApp,
  type TokenBody,
} from '../helper.js';

const ACCESS_TTL = 900;
const RETENTION = ACCESS_TTL + CLOCK_SKEW_SECONDS;

const sidOf = (token: string) => decodeJwt(token).payload.sid as string;
const logout = (t: TestApp, refreshToken: string) => t.app.inject({ method: 'POST', url: '/auth/logout', payload: { refreshToken } });

async function sessionExists(database: Database, id: string): Promise<boolean> {
  return (await database.db.select({ id: sessions.id }).from(sessions).where(eq(sessions.id, id))).length === 1;
}

/** Polls until `check` holds; fails after `timeoutMs` (it bounds a broken run, it is no latency assertion). */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`not ${what} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('pruning ended sessions', () => {
  let t: TestApp;
  const prune = () => pruneNow(t.database, t.config);

  beforeAll(async () => {
    t = await buildTestApp({ jwt: { ...testConfig().jwt, accessTtl: ACCESS_TTL, refreshTtl: 3600 } }, { maintenance: false });
  });
  afterAll(() => t?.close());

  it('keeps the row of a revoked session until ACCESS_TOKEN_TTL + the skew have passed, and deletes it just after', async () => {
    expect(sessionRetentionSeconds(t.config)).toBe(RETENTION);
    const user = await register(t.app);
    const sid = sidOf(user.accessToken);
    expect((await logout(t, user.refreshToken)).statusCode).toBe(204);

    t.clock.advance(RETENTION);
    await prune();
    expect(await sessionExists(t.database, sid)).toBe(true);

    t.clock.advance(1);
    const result = await prune();
    expect(await sessionExists(t.database, sid)).toBe(false);
    expect(result.skipped).toBe(false);
    if (!result.skipped) expect(result.counts.sessions).toBeGreaterThanOrEqual(1);

    // The pruned session's refresh token: refused as revoked (as before the prune), never 200 or 500.
    const res = await refreshWith(t.app, user.refreshToken);
    expect(res.statusCode).toBe(401);
    expect(problem(res).code).toBe('token_revoked');
    // Logout with it stays idempotent.
    expect((await logout(t, user.refreshToken)).statusCode).toBe(204);
    // The known sign-in address is kept apart, and outlives the session row.
    const known = await t.database.db.select().from(signInAddresses).where(eq(signInAddresses.userId, user.user.id));
    expect(known).toHaveLength(1);
  });

  it('keeps the row of an expired session until its end + ACCESS_TOKEN_TTL + the skew, then its refresh token is expired', async () => {
    const user = await register(t.app);
    const sid = sidOf(user.accessToken);
    t.clock.advance(3600 + RETENTION);
    await prune();
    expect(await sessionExists(t.database, sid)).toBe(true);
    t.clock.advance(1);
    await prune();
    expect(await sessionExists(t.database, sid)).toBe(false);
    const res = await refreshWith(t.app, user.refreshToken);
    expect(res.statusCode).toBe(401);
    expect(problem(res).code).toBe('token_expired');
  });

  it('never prunes a live session, nor one just rotated (its spent token still gets the grace)', async () => {
    const live = await register(t.app);
    const rotating = await register(t.app);
    const rotated = await refreshWith(t.app, rotating.refreshToken);
    expect(rotated.statusCode).toBe(200);
    t.clock.advance(5); // within REFRESH_REUSE_GRACE (10 s)
    await prune();
    expect(await sessionExists(t.database, sidOf(live.accessToken))).toBe(true);
    expect(await sessionExists(t.database, sidOf(rotating.accessToken))).toBe(true);
    expect((await refreshWith(t.app, rotating.refreshToken)).statusCode).toBe(200);

    t.clock.advance(3000); // later, both still before their end (3600 s)
    await prune();
    expect(await sessionExists(t.database, sidOf(live.accessToken))).toBe(true);
    expect((await refreshWith(t.app, live.refreshToken)).statusCode).toBe(200);
  });

  it('refuses the tokens of a session revoked for reuse once its row is gone: still 401, never 200', async () => {
    const user = await register(t.app);
    const next = (await refreshWith(t.app, user.refreshToken)).json() as TokenBody;
    t.clock.advance(11); // past the grace: theft
    const reused = await refreshWith(t.app, user.refreshToken);
    expect(problem(reused).code).toBe('refresh_token_reused');
    t.clock.advance(RETENTION + 1);
    await prune();
    expect(await sessionExists(t.database, sidOf(user.accessToken))).toBe(false);
    for (const token of [user.refreshToken, next.refreshToken]) {
      const res = await refreshWith(t.app, token);
      expect(res.statusCode).toBe(401);
      expect(problem(res).code).toBe('token_revoked');
    }
  });

  it('leaves GET /auth/sessions and DELETE /auth/sessions/:id answering as before', async () => {
    const first = await register(t.app);
    const second = (await t.app.inject({ method: 'POST', url: '/auth/login', payload: { email: first.email, password: first.password } })).json() as TokenBody;
    const gone = sidOf(second.accessToken);
    expect((await t.app.inject({ method: 'DELETE', url: `/auth/sessions/${gone}`, headers: bearer(first.accessToken) })).statusCode).toBe(204);
    t.clock.advance(RETENTION + 1);
    await prune();
    expect(await sessionExists(t.database, gone)).toBe(false);

    const fresh = (await refreshWith(t.app, first.refreshToken)).json() as TokenBody;
    const list = await t.app.inject({ method: 'GET', url: '/auth/sessions', headers: bearer(fresh.accessToken) });
    expect(list.statusCode).toBe(200);
    expect((list.json() as { sessions: { id: string }[] }).sessions.map((s) => s.id)).toEqual([sidOf(first.accessToken)]);
    const again = await t.app.inject({ method: 'DELETE', url: `/auth/sessions/${gone}`, headers: bearer(fresh.accessToken) });
    expect(again.statusCode).toBe(404);
    expect(problem(again).code).toBe('not_found');
  });

  it('keeps a revoked session for REFRESH_REUSE_GRACE when that is longer than ACCESS_TOKEN_TTL + the skew', async () => {
    const config = { ...t.config, jwt: { ...t.config.jwt, accessTtl: 60 }, refreshReuseGrace: 600 };
    expect(sessionRetentionSeconds(config)).toBe(600);
    const user = await register(t.app);
    const sid = sidOf(user.accessToken);
    await logout(t, user.refreshToken);
    t.clock.advance(600);
    await pruneNow(t.database, config);
    expect(await sessionExists(t.database, sid)).toBe(true);
    t.clock.advance(1);
    await pruneNow(t.database, config);
    expect(await sessionExists(t.database, sid)).toBe(false);
  });

  it('leaves the revocation feed working: logout-all after a prune still refuses the access token', async () => {
    const user = await register(t.app);
    await logout(t, (await register(t.app)).refreshToken);
    t.clock.advance(RETENTION + 1);
    await prune();
    const fresh = (await refreshWith(t.app, user.refreshToken)).json() as TokenBody;
    expect((await t.app.inject({ method: 'POST', url: '/auth/logout-all', headers: bearer(fresh.accessToken) })).statusCode).toBe(200);
    expect(problem(await revokedEventually(t.app, fresh.accessToken)).code).toBe('token_revoked');
  });

  describe('the security log', () => {
    const retained = () => ({ ...t.config, auditRetention: 86_400 });

    it('deletes auth_events older than AUDIT_RETENTION, exactly at the cut-off', async () => {
      const now = t.clock.now();
      const ids: Record<string, string> = {};
      for (const [name, age] of [['old', 86_401], ['edge', 86_400], ['recent', 10]] as const) {
        const userId = randomUUID();
        await recordAuthEvent(t.database.db, { userId, type: 'login', at: new Date(now - age * 1000) });
        const [row] = await t.database.db.select({ id: authEvents.id }).from(authEvents).where(eq(authEvents.userId, userId));
        ids[name] = row!.id;
      }
      const result = await pruneNow(t.database, retained());
      expect(result.skipped).toBe(false);
      const left = new Set((await t.database.db.select({ id: authEvents.id }).from(authEvents)).map((row) => row.id));
      expect([left.has(ids.old!), left.has(ids.edge!), left.has(ids.recent!)]).toEqual([false, true, true]);
    });

    it('deletes in batches until none is left', async () => {
      const at = new Date(t.clock.now() - 2 * 86_400_000);
      const userId = randomUUID();
      const rows = Array.from({ length: 2500 }, () => ({ id: randomUUID(), userId, type: 'login' as const, at }));
      for (let i = 0; i < rows.length; i += 500) await t.database.db.insert(authEvents).values(rows.slice(i, i + 500));
      const result = await pruneNow(t.database, retained());
      expect(result.skipped === false && result.counts.authEvents).toBeGreaterThanOrEqual(2500);
      expect(await t.database.db.select().from(authEvents).where(eq(authEvents.userId, userId))).toEqual([]);
    });
  });

  describe('in the background', () => {
    it('prunes on its own timer, and logs what it pruned', async () => {
      const { lines, stream } = logCapture();
      const app = await t.another({ maintenance: { everyMs: 20 }, logger: { level: 'info', stream } });
      const user = await register(app);
      await logout(t, user.refreshToken);
      t.clock.advance(RETENTION + 1);
      await eventually(async () => !(await sessionExists(t.database, sidOf(user.accessToken))), 'pruned');
      await eventually(async () => lines.some((line) => line.includes('maintenance: pruned')), 'logged');
      await app.close();
    });

    it.skipIf(onPostgres)('runs one prune at a time in a process (PGlite has one connection)', async () => {
      const results = await Promise.all([prune(), prune()]);
      expect(results.filter((r) => r.skipped)).toHaveLength(1);
    });
  });
});

/** Two instances on one PostgreSQL database: the advisory lock lets one prune at a time. */
describe.skipIf(!onPostgres)('pruning from several instances', () => {
  let t: TestApp;
  let second: Database;
  let admin: pg.Client;
  beforeAll(async () => {
    t = await buildTestApp({}, { maintenance: false });
    second = await openDatabase(t.config.database);
    await t.another({ database: second });
    admin = new pg.Client({ connectionString: (t.config.database as { url: string }).url });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await t?.close();
    await second?.close();
  });

  const endedSession = async () => {
    const user = await register(t.app);
    await logout(t, user.refreshToken);
    return sidOf(user.accessToken);
  };

  it('skips the run, deleting nothing, while another instance holds the lock', async () => {
    const sid = await endedSession();
    t.clock.advance(RETENTION + 1);
    await admin.query('select pg_advisory_lock($1)', [PRUNE_LOCK]);
    try {
      expect(await pruneNow(t.database, t.config)).toEqual({ skipped: true });
      expect(await sessionExists(t.database, sid)).toBe(true);
    } finally {
      await admin.query('select pg_advisory_unlock($1)', [PRUNE_LOCK]);
    }
    expect(await pruneNow(t.database, t.config)).toMatchObject({ skipped: false, counts: { sessions: 1 } });
    expect(await sessionExists(t.database, sid)).toBe(false);
  });

  it('lets only one of two instances prune when both run at once', async () => {
    const sid = await endedSession();
    t.clock.advance(RETENTION + 1);
    // Holding the row makes the first run wait inside its lock, so the second surely runs meanwhile.
    await admin.query('begin');
    await admin.query('select id from sessions where id = $1 for update', [sid]);
    const first = pruneNow(t.database, t.config);
    await eventually(async () => {
      const { rows } = await admin.query<{ n: number }>(
        `select count(*)::int as n from pg_locks where locktype = 'advisory' and granted
           and database = (select oid from pg_database where datname = current_database())
           and ((classid::bigint << 32) | objid::bigint) = $1`,
        [PRUNE_LOCK],
      );
      return rows[0]!.n === 1;
    }, 'locked by the first run');
    const secondRun = await pruneNow(second, t.config);
    await admin.query('commit');
    expect(secondRun).toEqual({ skipped: true });
    expect(await first).toMatchObject({ skipped: false, counts: { sessions: 1 } });
    expect(await sessionExists(t.database, sid)).toBe(false);
  });
});
