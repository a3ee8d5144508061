import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance, InjectOptions } from 'fastify';
import { openDatabase, type Database } from '../../src/db/client.js';
import {
  bearer,
  createTestDatabase,
  me,
  onPostgres,
  PASSWORD,
  problem,
  refreshWith,
  register,
  snapshot,
  testConfig,
  uniqueEmail, buildApp } from '../helper.js';
import { startTcpProxy, type ProxyMode, type TcpProxy } from '../support/tcp-proxy.js';

/**
 * PostgreSQL goes away under a running app, through a TCP proxy the test controls. Runs in
 * the PostgreSQL pass (TEST_DATABASE_URL); PGlite is in-process and cannot become unreachable.
 */
/** Far above the pool's 2 s timeouts, far below the test's own 30 s. */
const HANG_MS = 10_000;

describe.skipIf(!onPostgres)('while PostgreSQL is unreachable', () => {
  let proxy: TcpProxy;
  let app: FastifyInstance;
  let direct: Database;
  /** The app's database, opened here so the test can look at its pool. */
  let viaProxyDb: Database;
  let drop: () => Promise<void>;
  let user: Awaited<ReturnType<typeof register>>;

  beforeAll(async () => {
    const testDb = await createTestDatabase();
    drop = testDb.drop;
    const url = new URL((testDb.config as { url: string }).url);
    proxy = await startTcpProxy(url.hostname, Number(url.port || 5432));
    const viaProxy = new URL(url);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    const config = testConfig({ database: { kind: 'postgres', url: viaProxy.toString() } });
    viaProxyDb = await openDatabase(config.database);
    app = await buildApp(config, { database: viaProxyDb });
    // A second connection around the proxy, to look at the rows while the app cannot.
    direct = await openDatabase(testDb.config);
    user = await register(app);
  });

  afterAll(async () => {
    await app?.close();
    await viaProxyDb?.close();
    await direct?.close();
    await proxy?.close();
    await drop?.();
  });

  /**
   * The requests that need the database, each answered 503 service_unavailable instead of
   * hanging: the pool's 2 s timeouts end them. The bound is loose (the suite shares two
   * cores); what it catches is a request waiting on a dead connection with no timeout at all.
   */
  async function expectUnavailable() {
    const requests: [string, InjectOptions][] = [
      ['register', { method: 'POST', url: '/auth/register', payload: { email: uniqueEmail(), password: PASSWORD } }],
      ['login', { method: 'POST', url: '/auth/login', payload: { email: user.email, password: PASSWORD } }],
      ['refresh', { method: 'POST', url: '/auth/refresh', payload: { refreshToken: user.refreshToken } }],
      ['logout-all', { method: 'POST', url: '/auth/logout-all', headers: bearer(user.accessToken) }],
    ];
    await Promise.all(
      requests.map(async ([name, request]) => {
        const started = performance.now();
        const res = await app.inject(request);
        const elapsed = performance.now() - started;
        expect(res.statusCode, name).toBe(503);
        expect(problem(res).code, name).toBe('service_unavailable');
        expect(res.headers['retry-after'], name).toBeDefined();
        expect(elapsed, `${name} answered in ${Math.round(elapsed)} ms`).toBeLessThan(HANG_MS);
      }),
    );
    const ready = await app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(503);
    expect(problem(ready).code).toBe('service_unavailable');
  }

  it.each<[string, ProxyMode]>([
    ['refused (the server went away)', 'refuse'],
    ['blackholed (packets vanish, only timeouts notice)', 'blackhole'],
  ])('%s: /me still answers, writes answer 503 instead of hanging, nothing is half-written, and it recovers', async (_name, mode) => {
    const before = await snapshot(direct);
    proxy.set(mode);
    try {
      // The design's strength: protected requests do not need the database at all.
      expect((await me(app, user.accessToken)).statusCode).toBe(200);
      await expectUnavailable();
    } finally {
      proxy.set('up');
    }
    expect(await snapshot(direct)).toEqual(before);

    // Back without a restart.
    expect((await app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
    const rotated = await refreshWith(app, user.refreshToken);
    expect(rotated.statusCode).toBe(200);
    user = { ...user, ...rotated.json() };
    expect((await app.inject({ method: 'POST', url: '/auth/login', payload: { email: user.email, password: PASSWORD } })).statusCode).toBe(200);
    expect(checkedOut()).toBe(0);
  });

  it('a transaction whose BEGIN never answers gives its connection back, and the pool stays whole', async () => {
    await viaProxyDb.ping(); // an idle connection in the pool, which the transaction will take
    proxy.set('blackhole');
    try {
      await expect(viaProxyDb.db.transaction(async (tx) => tx.execute(sql`select 1`))).rejects.toThrow();
    } finally {
      proxy.set('up');
    }
    // drizzle-orm 0.45's own transaction() runs BEGIN outside its try/finally: this client
    // would stay checked out for the life of the process, and ten such failures empty the pool.
    expect(checkedOut()).toBe(0);
    await expect(viaProxyDb.db.transaction(async (tx) => tx.execute(sql`select 1`))).resolves.toBeDefined();
  });

  /** Connections of the app's pool held by someone while no request runs: must be 0. */
  function checkedOut(): number {
    const pool = (viaProxyDb.db as unknown as { $client: { totalCount: number; idleCount: number } }).$client;
    return pool.totalCount - pool.idleCount;
  }
});
