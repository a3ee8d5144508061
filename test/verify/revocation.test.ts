import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerifyOptions } from 'versioned-auth/verify';
import { openDatabase, type Database } from '../../src/db/client.js';
import { revocations } from '../../src/db/schema.js';
import { bearer, buildTestApp, decodeJwt, onPostgres, problem, register, TEST_DATABASE_URL, testClock, type TestApp } from '../helper.js';
import { readOnlyUrl } from '../../src/verify/revocation.js';
import { createTemporaryDatabase } from '../support/temporary-database.js';
import { accessClaims, AUDIENCE, generateKey, ISSUER, orders, resourceServer, sign, type TestKey } from './issuer.js';

/**
 * versioned-auth/verify following the auth service's revocation feed: the service (HS256
 * here; its signing keys do not matter to the feed) signs users in and out; the other
 * service verifies tokens of a test key naming the same users and sessions. With
 * PostgreSQL it opens the database from its URL, as another service would; with PGlite
 * (one process) it is handed the open database.
 */
const TIMEOUT_MS = 5000;
let t: TestApp;
let key: TestKey;
let verifier: { app: FastifyInstance; logs: string[] };

/** Where the verify plugin reads the feed: the service's URL (PostgreSQL) or its open database (PGlite). */
const feedSource = (database: Database, url?: string): NonNullable<VerifyOptions['revocation']> =>
  url !== undefined ? { databaseUrl: url } : { database };
const serviceUrl = () => (t.config.database.kind === 'postgres' ? t.config.database.url : undefined);

beforeAll(async () => {
  t = await buildTestApp();
  key = generateKey('EdDSA');
  verifier = await resourceServer({
    publicKeys: [key.jwk],
    issuer: ISSUER,
    audience: AUDIENCE,
    clock: t.clock,
    revocation: feedSource(t.database, serviceUrl()),
  });
});
afterAll(async () => {
  await verifier?.app.close();
  await t?.close();
});

/** A user signed in on the service, and a token of the test key for the same user, session and version. */
async function signedIn() {
  const user = await register(t.app);
  const { sub, sid, refreshTokenVersion } = decodeJwt(user.accessToken).payload;
  const tokenFor = (overrides: Record<string, unknown> = {}) => sign(key, accessClaims(t.clock.now(), { sub, sid, refreshTokenVersion, ...overrides }));
  return { user, sid: sid as string, tokenFor };
}

/** Polls until the other service refuses `token` as revoked; fails after a generous timeout (no latency assertion). */
async function refusedEventually(app: FastifyInstance, token: string) {
  const deadline = performance.now() + TIMEOUT_MS;
  for (;;) {
    const res = await orders(app, token);
    if (res.statusCode === 401) return res;
    expect(res.statusCode).toBe(200);
    if (performance.now() > deadline) throw new Error(`still accepted after ${TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('versioned-auth/verify with revocation', () => {
  it('refuses a token after logout-all on the service (token_revoked); a token of the new version passes', async () => {
    const { user, tokenFor } = await signedIn();
    const token = tokenFor();
    expect((await orders(verifier.app, token)).statusCode).toBe(200);
    const res = await t.app.inject({ method: 'POST', url: '/auth/logout-all', headers: bearer(user.accessToken) });
    expect(res.statusCode).toBe(200);
    const refused = await refusedEventually(verifier.app, token);
    expect(problem(refused)).toEqual({ type: 'about:blank', status: 401, title: 'The token has been revoked', code: 'token_revoked' });
    expect(refused.headers['www-authenticate']).toBe('Bearer error="invalid_token"');
    expect((await orders(verifier.app, tokenFor({ refreshTokenVersion: res.json().refreshTokenVersion }))).statusCode).toBe(200);
  });

  it("refuses a signed-out session's tokens, and only that session's", async () => {
    const { user, tokenFor } = await signedIn();
    const other = await signedIn();
    const res = await t.app.inject({ method: 'POST', url: '/auth/logout', headers: bearer(user.accessToken) });
    expect(res.statusCode).toBe(204);
    expect(problem(await refusedEventually(verifier.app, tokenFor())).code).toBe('token_revoked');
    expect((await orders(verifier.app, other.tokenFor())).statusCode).toBe(200);
  });

  it('reloads what was revoked before it started', async () => {
    const { user, tokenFor } = await signedIn();
    await t.app.inject({ method: 'POST', url: '/auth/logout-all', headers: bearer(user.accessToken) });
    const late = await resourceServer({ publicKeys: [key.jwk], issuer: ISSUER, audience: AUDIENCE, clock: t.clock, revocation: feedSource(t.database, serviceUrl()) });
    try {
      expect(problem(await refusedEventually(late.app, tokenFor())).code).toBe('token_revoked');
    } finally {
      await late.app.close();
    }
  });

  it("leaves the service's table alone: no pruning of old rows", async () => {
    const window = (900 + 30) * 1000;
    const [old] = await t.database.db
      .insert(revocations)
      .values({ kind: 'session', userId: randomUUID(), sessionId: randomUUID(), createdAt: new Date(t.clock.now() - 3 * window) })
      .returning({ id: revocations.id });
    const other = await resourceServer({ publicKeys: [key.jwk], issuer: ISSUER, audience: AUDIENCE, clock: t.clock, revocation: feedSource(t.database, serviceUrl()) });
    try {
      // The feed is up once a fresh revocation reaches it; an owner would have pruned by then.
      const { user, tokenFor } = await signedIn();
      await t.app.inject({ method: 'POST', url: '/auth/logout-all', headers: bearer(user.accessToken) });
      await refusedEventually(other.app, tokenFor());
      const rows = await t.database.db.select().from(revocations).where(sql`${revocations.id} = ${old!.id}`);
      expect(rows).toHaveLength(1);
    } finally {
      await other.app.close();
    }
  });

  it('warns once when tokens live longer than revocation.accessTokenTtl', async () => {
    const short = await resourceServer({
      publicKeys: [key.jwk],
      issuer: ISSUER,
      audience: AUDIENCE,
      clock: t.clock,
      revocation: { ...feedSource(t.database, serviceUrl()), accessTokenTtl: '1m' },
    });
    try {
      const { tokenFor } = await signedIn();
      expect((await orders(short.app, tokenFor())).statusCode).toBe(200);
      expect((await orders(short.app, tokenFor())).statusCode).toBe(200);
      expect(short.logs.filter((line) => line.includes('longer than revocation.accessTokenTtl'))).toHaveLength(1);
    } finally {
      await short.app.close();
    }
  });
});

describe('versioned-auth/verify on a database without the schema', () => {
  let empty: { database: Database; url?: string; drop(): Promise<void> };
  beforeAll(async () => {
    if (onPostgres) {
      const temporary = await createTemporaryDatabase(TEST_DATABASE_URL!, 'va_verify');
      const database = await openDatabase({ kind: 'postgres', url: temporary.url });
      empty = { database, url: temporary.url, drop: async () => (await database.close(), await temporary.drop()) };
    } else {
      const database = await openDatabase({ kind: 'pglite', dataDir: 'memory://' });
      empty = { database, drop: () => database.close() };
    }
  });
  afterAll(() => empty?.drop());

  it('never migrates nor writes: serves by signature alone with one warning, and creates no table', async () => {
    const clock = testClock();
    const { app, logs } = await resourceServer({ publicKeys: [key.jwk], issuer: ISSUER, audience: AUDIENCE, clock, revocation: feedSource(empty.database, empty.url) });
    try {
      expect((await orders(app, sign(key, accessClaims(clock.now())))).statusCode).toBe(200);
      expect((await orders(app, sign(key, accessClaims(clock.now())))).statusCode).toBe(200);
      expect(logs.filter((line) => line.includes('revocation feed down'))).toHaveLength(1);
    } finally {
      await app.close();
    }
    const tables = await empty.database.db.execute(sql`select table_name from information_schema.tables where table_schema = 'public'`);
    expect((tables as unknown as { rows: unknown[] }).rows).toEqual([]);
  });
});

describe.skipIf(!onPostgres)('versioned-auth/verify opening the database from its URL (PostgreSQL only: PGlite has no URL)', () => {
  it('opens every session read-only, keeping options the URL already had', async () => {
    const url = new URL(serviceUrl()!);
    url.searchParams.set('options', '-c application_name=orders-api');
    const database = await openDatabase({ kind: 'postgres', url: readOnlyUrl(url.toString()) });
    try {
      const settings = await database.db.execute(sql`select current_setting('default_transaction_read_only') as ro, current_setting('application_name') as name`);
      expect((settings as unknown as { rows: unknown[] }).rows).toEqual([{ ro: 'on', name: 'orders-api' }]);
      await expect(database.db.insert(revocations).values({ kind: 'user_deleted', userId: randomUUID(), createdAt: new Date() })).rejects.toSatisfy((error: Error & { cause?: Error }) => /read-only transaction/.test(`${error.message} ${error.cause?.message}`));
    } finally {
      await database.close();
    }
  });
});
