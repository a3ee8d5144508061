import { randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { cp, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { expect, inject } from 'vitest';
import { Redis } from 'ioredis';
import Fastify, { type FastifyInstance, type FastifyServerOptions, type InjectOptions, type LightMyRequestResponse, type RouteOptions } from 'fastify';
import versionedAuth, { notFoundProblem, serverOptions } from '../src/index.js';
import type { VersionedAuthOptions } from '../src/plugin.js';
import demoPage from '../src/http/demo.js';
import { loggerOptions } from '../src/http/logging.js';
import tokensPlugin from '../src/plugins/tokens.js';
import type { Tokens } from '../src/tokens/index.js';
import { generateAccessPrivateKey } from '../src/config/access-keys.js';
import { OWASP_ARGON2ID, type Config, type DatabaseConfig } from '../src/config/index.js';
import { openDatabase, type Database } from '../src/db/client.js';
import { authEvents, revocations, sessions, signInAddresses, users } from '../src/db/schema.js';
import { checkDeclaredResponses } from './support/declared-responses.js';
import { createTemporaryDatabase } from './support/temporary-database.js';

/** Set to run every integration test against a real PostgreSQL server instead of PGlite. */
export const TEST_DATABASE_URL = process.env.TEST_DATABASE_URL;
export const onPostgres = Boolean(TEST_DATABASE_URL);
/** Set to run the tests about the shared Redis rate-limit store. */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL;

/**
 * A Redis key prefix of this test file's own, so no run sees another's (or an earlier
 * run's) counters; `deleteRedisKeys` removes them afterwards.
 */
export const testRedisPrefix = () => `versioned-auth-test:${randomUUID()}:`;

/** Deletes every key under `prefix` on the test Redis. */
export async function deleteRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(TEST_REDIS_URL!);
  try {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
  } finally {
    redis.disconnect();
  }
}

/** Test keys: placeholders (they contain "secret"), which loadConfig refuses with NODE_ENV=production. */
/** A log destination that keeps every line, for tests that read what was logged. */
export function logCapture(): { lines: string[]; stream: Writable } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { lines, stream };
}

export const ACCESS_SECRET = 'access-secret-for-tests-0123456789abcdef';
export const REFRESH_SECRET = 'refresh-secret-for-tests-0123456789abcdef';

export interface TestClock {
  now(): number;
  /** Moves time forward by `seconds`. */
  advance(seconds: number): void;
}

/** A year, in ms: tests that meet real time (Redis) start their clock this far off it, both ways. */
export const YEAR_MS = 365 * 86_400_000;

/** A clock that only moves when told, starting at a whole second. */
export function testClock(start = Date.UTC(2026, 10, 27, 12, 0, 0)): TestClock {
  let t = start;
  return { now: () => t, advance: (seconds) => void (t += seconds * 1000) };
}

/**
 * TEST_ACCESS_ALGORITHM=EdDSA or ES256 runs the suites with asymmetric access tokens (one key
 * per test process) instead of HS256; files that forge HS256 access tokens set their own.
 */
const TEST_ACCESS_ALGORITHM = process.env.TEST_ACCESS_ALGORITHM as 'EdDSA' | 'ES256' | undefined;
const testAccessKeys = TEST_ACCESS_ALGORITHM
  ? { accessAlgorithm: TEST_ACCESS_ALGORITHM, accessSecrets: [], accessPrivateKeys: [generateAccessPrivateKey(TEST_ACCESS_ALGORITHM)] }
  : { accessAlgorithm: 'HS256' as const, accessSecrets: [ACCESS_SECRET], accessPrivateKeys: [] };

export function testConfig(overrides: Partial<Config> = {}): Config {
  return {
    host: '127.0.0.1',
    port: 0,
    database: { kind: 'pglite', dataDir: 'memory://' },
    workers: 1,
    jwt: {
      issuer: 'versioned-auth',
      audience: 'versioned-auth',
      ...testAccessKeys,
      refreshSecrets: [REFRESH_SECRET],
      accessTtl: 900,
      refreshTtl: 30 * 86400,
    },
    refreshReuseGrace: 10,
    accessTokenRevocation: 'instant',
    rateLimit: false,
    redisUrl: undefined,
    redisKeyPrefix: 'versioned-auth:',
    corsOrigins: [],
    cookieSecure: true,
    trustProxy: false,
    httpServer: { requestTimeout: 10, keepAliveTimeout: 72, maxConnections: 1000 },
    logLevel: 'silent',
    passwordHashing: OWASP_ARGON2ID,
    clock: testClock(),
    dataDir: 'memory://',
    production: false,
    metricsPort: undefined,
    auditRetention: 90 * 86400,
    docs: true,
    ...overrides,
  };
}

/** A new directory under the run's temporary directory, which the global setup removes at the end (even for a skipped suite). */
export const runDirectory = (prefix: string): string => mkdtempSync(join(dirname(inject('pgliteTemplate')), `${prefix}-`));

/**
 * Puts a prepared embedded database where a server started with DATA_DIR=`dataDir` opens
 * it (`<dataDir>/pglite`), so the server skips initdb: for tests that are not about a first
 * start (test/db/prepare-pglite.test.ts is). Does nothing when one is there already.
 */
export async function seedDataDir(dataDir: string): Promise<void> {
  const target = join(dataDir, 'pglite');
  if (!existsSync(target)) await cp(inject('pgliteTemplate'), target, { recursive: true });
}

/**
 * A new PGlite data directory, migrated, with no rows: a copy of the one the global setup
 * prepared (test/support/pglite-template.ts), alone in a run directory of its own (its lock
 * file goes beside it).
 */
export async function preparedPgliteDirectory(): Promise<string> {
  const home = runDirectory('db');
  prepared.push(home);
  await seedDataDir(home);
  return join(home, 'pglite');
}
const prepared: string[] = [];

/** Removes every directory `preparedPgliteDirectory` made in this file (call it in afterAll, the databases closed): about 40 MB each. */
export async function removePreparedDirectories(): Promise<void> {
  await Promise.all(prepared.splice(0).map((home) => rm(home, { recursive: true, force: true })));
}

/**
 * A fresh, migrated database with no rows: a copy of the PGlite directory the global setup
 * prepared (test/support/pglite-template.ts), or a new database on the TEST_DATABASE_URL
 * server; `drop` removes it, so files can run in parallel.
 */
export async function createTestDatabase(): Promise<{ config: DatabaseConfig; drop(): Promise<void> }> {
  if (!TEST_DATABASE_URL) {
    const dataDir = await preparedPgliteDirectory();
    return { config: { kind: 'pglite', dataDir }, drop: () => rm(dirname(dataDir), { recursive: true, force: true }) };
  }
  const { url, drop } = await createTemporaryDatabase(TEST_DATABASE_URL, 'va_test');
  return { config: { kind: 'postgres', url }, drop };
}

export interface BuildOptions {
  /** pino options; none when absent. */
  logger?: FastifyServerOptions['logger'];
  /** An open database the caller closes; otherwise the plugin opens `config.database`. */
  database?: Database;
  /** Called for every route the app registers, the plugin's included (a root `onRoute` hook). */
  onRoute?: (route: RouteOptions) => void;
  /** For `another`: this config instead of the first app's (same database). */
  config?: Config;
  /** Serves the demo SPA at /demo, as src/server.ts does outside production. */
  demo?: boolean;
  /** The plugin's `maintenance` option (background pruning). */
  maintenance?: VersionedAuthOptions['maintenance'];
}

/** The service as src/server.ts composes it (server options, the plugin, problem+json 404s), ready. */
export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({ ...serverOptions(config), logger: loggerOptions(options.logger) });
  try {
    checkDeclaredResponses(app);
    if (options.onRoute) app.addHook('onRoute', options.onRoute);
    await app.register(versionedAuth, { config, database: options.database, maintenance: options.maintenance });
    if (options.demo) await app.register(demoPage);
    app.setNotFoundHandler(notFoundProblem);
    await app.ready();
  } catch (error) {
    await app.close();
    throw error;
  }
  return app;
}

/** The token service alone, as the plugin builds it (through @fastify/jwt), for unit tests. */
export async function createTestTokens(config: Pick<Config, 'jwt' | 'clock'>): Promise<Tokens> {
  const app = Fastify();
  await app.register(tokensPlugin, { config });
  await app.ready();
  return app.authTokens;
}

export interface TestApp {
  app: FastifyInstance;
  config: Config;
  clock: TestClock;
  database: Database;
  /** Builds another app instance on the same database (another server behind the load balancer). */
  another(options?: BuildOptions): Promise<FastifyInstance>;
  close(): Promise<void>;
}

/** A fresh app on a fresh database, with an injected clock; close it in afterAll. */
export async function buildTestApp(
  overrides: Partial<Omit<Config, 'clock'>> & { clock?: TestClock } = {},
  options: BuildOptions = {},
): Promise<TestApp> {
  const clock = overrides.clock ?? testClock();
  // A caller that names its database gets that one, and no copy made for nothing.
  const testDb = overrides.database ? { config: overrides.database, drop: async () => {} } : await createTestDatabase();
  const config = testConfig({ database: testDb.config, ...overrides, clock });
  const database = await openDatabase(config.database);
  const apps: FastifyInstance[] = [];
  const another = async (more: BuildOptions = {}) => {
    const app = await buildApp(more.config ?? config, { database, ...options, ...more });
    apps.push(app);
    return app;
  };
  const app = await another();
  return {
    app,
    config,
    clock,
    database,
    another,
    close: async () => {
      await Promise.all(apps.map((a) => a.close()));
      await database.close();
      await testDb.drop();
    },
  };
}

/** Every row of every table, to prove a refused request wrote nothing. */
export async function snapshot(database: Database) {
  const [allUsers, allSessions, addresses, allRevocations, events] = await Promise.all([
    database.db.select().from(users).orderBy(users.id),
    database.db.select().from(sessions).orderBy(sessions.id),
    database.db.select().from(signInAddresses).orderBy(signInAddresses.userId, signInAddresses.address),
    database.db.select().from(revocations).orderBy(revocations.id),
    database.db.select().from(authEvents).orderBy(authEvents.id),
  ]);
  return { users: allUsers, sessions: allSessions, signInAddresses: addresses, revocations: allRevocations, authEvents: events };
}

export type Snapshot = Awaited<ReturnType<typeof snapshot>>;

/**
 * Asserts that from `before` to `after` nothing changed but the security log, which gained
 * exactly rows like `added` (a refused login's, which is recorded), in any order.
 */
export function expectOnlyNewEvents(before: Snapshot, after: Snapshot, added: Partial<Snapshot['authEvents'][number]>[]): void {
  const { authEvents: eventsBefore, ...restBefore } = before;
  const { authEvents: eventsAfter, ...restAfter } = after;
  expect(restAfter).toEqual(restBefore);
  expect(eventsAfter.filter((event) => eventsBefore.some((old) => old.id === event.id))).toEqual(eventsBefore);
  const unmatched = eventsAfter.filter((event) => !eventsBefore.some((old) => old.id === event.id));
  expect(unmatched).toHaveLength(added.length);
  // Each expected row takes a new row of its own, so two alike need two.
  for (const row of added) {
    const i = unmatched.findIndex((event) => Object.entries(row).every(([key, value]) => event[key as keyof typeof event] === value));
    expect(i, `no new event like ${JSON.stringify(row)} among ${JSON.stringify(unmatched)}`).toBeGreaterThanOrEqual(0);
    unmatched.splice(i, 1);
  }
}

let counter = 0;
/** A unique, valid email. */
export const uniqueEmail = (prefix = 'user') => `${prefix}-${process.pid}-${++counter}@example.com`;
export const PASSWORD = 'correct horse battery';

export async function register(app: FastifyInstance, email = uniqueEmail(), password = PASSWORD) {
  const res = await app.inject({ method: 'POST', url: '/auth/register', payload: { email, password } });
  if (res.statusCode !== 201) throw new Error(`register failed: ${res.statusCode} ${res.body}`);
  return { email, password, ...(res.json() as TokenBody) };
}

export interface TokenBody {
  tokenType: 'Bearer';
  accessToken: string;
  expiresIn: number;
  refreshToken: string;
  refreshExpiresIn: number;
  user: { id: string; email: string };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

export function loginWith(app: FastifyInstance, email: string, password = PASSWORD): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/auth/login', payload: { email, password } });
}

export function refreshWith(app: FastifyInstance, refreshToken: string): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken } });
}

export function me(app: FastifyInstance, accessToken: string, extra: Partial<InjectOptions> = {}) {
  return app.inject({ method: 'GET', url: '/me', headers: bearer(accessToken), ...extra });
}

/**
 * Polls GET /me until `app` refuses `token` as revoked (the revocation feed takes a moment to
 * reach every instance) and returns that answer; throws if it is still accepted after
 * `timeoutMs` (generous: it bounds a broken run, it is no latency assertion).
 */
export async function revokedEventually(app: FastifyInstance, token: string, timeoutMs = 5000): Promise<LightMyRequestResponse> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const res = await me(app, token);
    if (res.statusCode === 401 && problem(res).code === 'token_revoked') return res;
    if (res.statusCode !== 200) throw new Error(`expected 200 or 401 token_revoked, got ${res.statusCode}: ${res.body}`);
    if (performance.now() > deadline) throw new Error(`still accepted after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** Decodes a compact JWS without verifying it. */
export function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown> } {
  const [header, payload] = token.split('.');
  const parse = (part: string | undefined) => JSON.parse(Buffer.from(part ?? '', 'base64url').toString('utf8'));
  return { header: parse(header), payload: parse(payload) };
}

/** Asserts a problem+json answer and returns its body. */
export function problem(res: LightMyRequestResponse): { status: number; code: string; title: string; type: string; errors?: { path: string; message: string }[] } {
  if (!String(res.headers['content-type']).startsWith('application/problem+json')) {
    throw new Error(`not problem+json: ${res.statusCode} ${res.headers['content-type']} ${res.body}`);
  }
  return res.json();
}

/**
 * Sends a request that must be refused and proves it wrote nothing: asserts the status, the
 * problem `code`, the field `path` when given, that no password is echoed, and that every
 * row of both tables is unchanged. Returns the answer for further checks.
 */
export async function expectRefusedWithoutWrites(
  database: Database,
  send: () => Promise<LightMyRequestResponse>,
  expected: { status: number; code: string; path?: string },
): Promise<LightMyRequestResponse> {
  const before = await snapshot(database);
  const res = await send();
  if (res.statusCode !== expected.status) throw new Error(`expected ${expected.status}, got ${res.statusCode}: ${res.body}`);
  const body = problem(res);
  if (body.code !== expected.code) throw new Error(`expected code ${expected.code}, got ${body.code}`);
  if (expected.path && !body.errors?.some((e) => e.path === expected.path)) {
    throw new Error(`expected an error at ${expected.path}: ${JSON.stringify(body.errors)}`);
  }
  if (JSON.stringify(body).includes(PASSWORD)) throw new Error('the answer echoes the password');
  const after = await snapshot(database);
  if (JSON.stringify(after) !== JSON.stringify(before)) throw new Error('the refused request changed the database');
  return res;
}
