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
describe.skipIf(!onPostgres)('while PostgreSQL is unreachable', () => {
  let proxy: TcpProxy;
  let app: FastifyInstance;
  let direct: Database;
  let drop: () => Promise<void>;
  let user: Awaited<ReturnType<typeof register>>;

  beforeAll(async () => {
    const testDb = await createTestDatabase();
    drop = testDb.drop;
    const url = new URL((testDb.config as { url: string }).url);
    proxy = await startTcpProxy(url.hostname, Number(url.port || 5432));
    const viaProxy = new URL(url);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    app = await buildApp(testConfig({ database: { kind: 'postgres', url: viaProxy.toString() } }));
    // A second connection around the proxy, to look at the rows while the app cannot.
    direct = await openDatabase(testDb.config);
    user = await register(app);
  });

  afterAll(async () => {
    await app?.close();
    await direct?.close();
    await proxy?.close();
    await drop?.();
  });

  /** The requests that need the database, each answered 503 service_unavailable within 3 s. */
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
        expect(elapsed, `${name} answered in ${Math.round(elapsed)} ms`).toBeLessThan(3000);
      }),
    );
    const ready = await app.inject({ method: 'GET', url: '/ready' });
    expect(ready.statusCode).toBe(503);
    expect(problem(ready).code).toBe('service_unavailable');
  }

  it.each<[string, ProxyMode]>([
    ['refused (the server went away)', 'refuse'],
    ['blackholed (packets vanish, only timeouts notice)', 'blackhole'],
  ])('%s: /me still answers, writes answer 503 within 3 s, nothing is half-written, and it recovers', async (_name, mode) => {
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
  });
});
