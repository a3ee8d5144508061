import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LISTENER_APPLICATION_NAME, openDatabase, type Database } from '../../src/db/client.js';
import {
  bearer,
  buildApp,
  buildTestApp,
  createTestDatabase,
  logCapture,
  me,
  onPostgres,
  problem,
  register,
  TEST_DATABASE_URL,
  testConfig,
  type TestApp,
} from '../helper.js';
import { startTcpProxy, type TcpProxy } from '../support/tcp-proxy.js';

const TIMEOUT_MS = 10_000;

/** Polls until `check` holds; fails after `timeoutMs` (generous: never a duration assertion). */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = TIMEOUT_MS): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`not ${what} after ${timeoutMs} ms`);
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

/**
 * The listener's network path dies silently (packets vanish, nothing is closed): only the
 * heartbeat can notice. The app's pool goes straight to PostgreSQL and only its listener
 * through a TCP proxy the test blackholes, so the database stays reachable and /ready can
 * tell the feed's state. PostgreSQL only.
 */
describe.skipIf(!onPostgres)('when the revocation feed\'s connection goes silent', () => {
  let proxy: TcpProxy;
  let direct: Database;
  let viaProxy: Database;
  let app: FastifyInstance;
  let other: FastifyInstance;
  let drop: () => Promise<void>;
  const { lines, stream } = logCapture();

  beforeAll(async () => {
    const testDb = await createTestDatabase();
    drop = testDb.drop;
    const url = new URL((testDb.config as { url: string }).url);
    proxy = await startTcpProxy(url.hostname, Number(url.port || 5432));
    const proxied = new URL(url);
    proxied.host = `127.0.0.1:${proxy.port}`;
    direct = await openDatabase(testDb.config);
    viaProxy = await openDatabase({ kind: 'postgres', url: proxied.toString() });
    const config = testConfig({ database: testDb.config });
    app = await buildApp(config, { database: { ...direct, listen: viaProxy.listen }, logger: { level: 'info', stream } });
    other = await buildApp(config, { database: direct });
  });
  afterAll(async () => {
    await app?.close();
    await other?.close();
    await viaProxy?.close();
    await direct?.close();
    await proxy?.close();
    await drop?.();
  });

  const ready = async () => (await app.inject({ method: 'GET', url: '/ready' })).json() as Record<string, string>;

  it('the heartbeat notices, /ready says degraded, and after the path is back it reconnects and reloads what was revoked meanwhile', async () => {
    const user = await register(other);
    expect((await me(app, user.accessToken)).statusCode).toBe(200);
    expect(await ready()).toEqual({ status: 'ok' });

    proxy.set('blackhole');
    // The heartbeat runs every 10 s and its query times out after 2 s.
    await eventually(async () => (await ready()).status === 'degraded', 'degraded', 30_000);
    expect(await ready()).toEqual({ status: 'degraded', revocationFeed: 'down' });
    expect(lines.filter((line) => line.includes('revocation feed down')).length).toBe(1);

    // Revoked on the other instance while this one cannot hear it; served on signature meanwhile.
    expect((await other.inject({ method: 'POST', url: '/auth/logout-all', headers: bearer(user.accessToken) })).statusCode).toBe(200);
    expect((await me(app, user.accessToken)).statusCode).toBe(200);

    proxy.set('up');
    await eventually(async () => (await ready()).status === 'ok', 'reconnected', 30_000);
    const res = await me(app, user.accessToken);
    expect(res.statusCode).toBe(401);
    expect(problem(res).code).toBe('token_revoked');
    expect(lines.some((line) => line.includes('revocation feed restored'))).toBe(true);
  });
});
