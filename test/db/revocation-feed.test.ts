import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LISTENER_APPLICATION_NAME } from '../../src/db/client.js';
import { bearer, buildTestApp, logCapture, me, onPostgres, problem, register, TEST_DATABASE_URL, type TestApp } from '../helper.js';

const TIMEOUT_MS = 10_000;

/** Polls until `check` holds; fails after TIMEOUT_MS (generous: never a duration assertion). */
async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = performance.now() + TIMEOUT_MS;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`not ${what} after ${TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * The listener's connection is killed by the server (as a failover or an idle-connection
 * reaper would): the instance keeps serving by signature, says so on /ready and in one
 * warning, then reconnects and reloads what it missed. PostgreSQL only: PGlite's LISTEN is
 * in-process and cannot be lost.
 */
describe.skipIf(!onPostgres)('when the revocation feed is lost', () => {
  let t: TestApp;
  const { lines, stream } = logCapture();
  let admin: pg.Client;

  beforeAll(async () => {
    t = await buildTestApp({}, { logger: { level: 'info', stream } });
    admin = new pg.Client({ connectionString: TEST_DATABASE_URL });
    await admin.connect();
  });
  afterAll(async () => {
    await admin?.end();
    await t?.close();
  });

  const ready = async () => (await t.app.inject({ method: 'GET', url: '/ready' })).json() as Record<string, string>;
  const killListener = async () => {
    const { database } = (t.config.database as { url: string }).url.match(/\/(?<database>[^/?]+)(\?|$)/)!.groups!;
    const res = await admin.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1 and datname = $2',
      [LISTENER_APPLICATION_NAME, database],
    );
    expect(res.rowCount).toBe(2); // one listener per instance
  };
  const warnings = () => lines.filter((line) => line.includes('revocation feed down')).length;

  it('serves degraded (200, signature only), warns once, then reconnects and reloads what it missed', async () => {
    expect(await ready()).toEqual({ status: 'ok' });
    const user = await register(t.app);
    const other = await t.another({ logger: undefined }); // its own feed, its own (silent) log

    await killListener();
    await eventually(async () => (await ready()).status === 'degraded', 'degraded');
    expect(await ready()).toEqual({ status: 'degraded', revocationFeed: 'down' });
    // Still serving: a valid token passes on signature.
    expect((await me(t.app, user.accessToken)).statusCode).toBe(200);

    // Revoked elsewhere while this instance may not be listening.
    await other.inject({ method: 'POST', url: '/auth/logout-all', headers: bearer(user.accessToken) });

    const otherReady = async () => ((await other.inject({ method: 'GET', url: '/ready' })).json() as { status: string }).status;
    await eventually(async () => (await ready()).status === 'ok' && (await otherReady()) === 'ok', 'reconnected');
    await eventually(async () => (await me(t.app, user.accessToken)).statusCode === 401, 'refused after reconnecting');
    expect(problem(await me(t.app, user.accessToken)).code).toBe('token_revoked');
    expect(warnings()).toBe(1);
    expect(lines.some((line) => line.includes('revocation feed restored'))).toBe(true);

    // A second outage warns again, once.
    await killListener();
    await eventually(async () => (await ready()).status === 'ok' && warnings() === 2, 'warned and reconnected again');
    expect(warnings()).toBe(2);
  });

  it('ACCESS_TOKEN_REVOCATION=strict answers 503 instead while the feed is down, and serves again once it is back', async () => {
    const strict = await buildTestApp({ accessTokenRevocation: 'strict' });
    try {
      const user = await register(strict.app);
      expect((await me(strict.app, user.accessToken)).statusCode).toBe(200);
      const { database } = (strict.config.database as { url: string }).url.match(/\/(?<database>[^/?]+)(\?|$)/)!.groups!;
      await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1 and datname = $2', [
        LISTENER_APPLICATION_NAME,
        database,
      ]);
      await eventually(async () => (await me(strict.app, user.accessToken)).statusCode === 503, 'refused while down');
      const res = await me(strict.app, user.accessToken);
      expect(problem(res).code).toBe('service_unavailable');
      expect(res.headers['retry-after']).toBeDefined();
      await eventually(async () => (await me(strict.app, user.accessToken)).statusCode === 200, 'served again');
    } finally {
      await strict.close();
    }
  });
});
