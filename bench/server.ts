/**
 * The server the benchmark drives: what src/server.ts does (loadConfig, development keys,
 * `Fastify(serverOptions(config))`, the `versioned-auth` plugin, listen, SIGTERM closes),
 * plus bench-only routes registered beside it. Never used by the product; started by
 * bench/run.ts as `node --import tsx bench/server.ts`. It opens the database itself and
 * hands it to the plugin (the plugin's `database` option), so the seed route writes through
 * the same handle; tokens are minted by the product's own token plugin, same keys.
 *
 * - `GET /bench/session-lookup` is the design this API replaces: every request reads its
 *   session row and that session's user from the database (one join) by an opaque id sent
 *   in `x-session-id`, then answers 200 `{ id, email }` like `/me` answers from a token.
 * - `GET /bench/me-unverified` answers like /me, with the same Authorization header, but
 *   without verifying the token (analysis only: what does verification cost).
 * - `POST /bench/seed` (only when BENCH_SEED_KEY is set, and only with that key) creates
 *   users and sessions in bulk through the server's own database handle, with one
 *   precomputed argon2id hash, and mints their tokens with the product's own token service.
 *   It exists because registering thousands of users through /auth/register would cost one
 *   argon2 hash each, and because with PGlite nobody but this process can open the files.
 */
import { randomUUID } from 'node:crypto';
import { eq, sql } from 'drizzle-orm';
import Fastify, { type FastifyInstance } from 'fastify';
import { createPasswordHasher } from '../src/auth/passwords.js';
import { ConfigError, loadConfig, useDevelopmentKeys, type Config } from '../src/config/index.js';
import { openDatabase, type Database } from '../src/db/client.js';
import { sessions, users } from '../src/db/schema.js';
import { AuthError } from '../src/errors.js';
import { HttpError } from '../src/http/errors.js';
import { Me } from '../src/http/schemas.js';
import versionedAuth, { notFoundProblem, serverOptions } from '../src/index.js';
import { serveMetrics } from '../src/metrics/serve.js';
import tokensPlugin from '../src/plugins/tokens.js';

let config: Config;
try {
  config = useDevelopmentKeys(loadConfig(process.env)).config;
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`bench server: invalid configuration: ${error.message}`);
  process.exit(1);
}

const app = Fastify(serverOptions(config));
const database = await openDatabase(config.database, (error) => app.log.warn({ err: error }, 'database connection lost'));
app.addHook('onClose', () => database.close());
await app.register(versionedAuth, { config, database });
app.setNotFoundHandler(notFoundProblem);
await app.register(async (scope) => benchRoutes(scope, database, config));

let closing = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    if (closing) return;
    closing = true;
    app.close().then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'error while shutting down');
        process.exit(1);
      },
    );
  });
}

// METRICS_PORT: the listener src/server.ts starts, idle unless scraped (the me-metrics scenario).
if (config.metricsPort !== undefined && app.authMetrics) {
  const metrics = await serveMetrics(app.authMetrics, { host: config.host, port: config.metricsPort, log: app.log });
  app.addHook('onClose', () => metrics.close());
}
await app.listen({ host: config.host, port: config.port });

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

async function benchRoutes(app: FastifyInstance, database: Database, config: Config): Promise<void> {
  const { db } = database;

  // One prepared statement, one join: the best case for a per-request session lookup.
  const lookup = db
    .select({ id: users.id, email: users.email, revokedAt: sessions.revokedAt, expiresAt: sessions.expiresAt })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(eq(sessions.id, sql.placeholder('id')))
    .prepare('bench_session_lookup');

  app.get(
    '/bench/session-lookup',
    {
      schema: {
        response: {
          200: {
            type: 'object',
            properties: { id: { type: 'string' }, email: { type: 'string' } },
            required: ['id', 'email'],
          },
        },
      },
    },
    async (request) => {
      const id = request.headers['x-session-id'];
      if (typeof id !== 'string' || !UUID.test(id)) throw new HttpError('token_missing', 'Session id required');
      const [row] = await lookup.execute({ id });
      if (!row || row.revokedAt !== null || row.expiresAt.getTime() <= config.clock.now()) {
        throw new AuthError('token_revoked', 'The session is no longer valid');
      }
      return { id: row.id, email: row.email };
    },
  );

  // Analysis only (`--only baseline,me-unverified,me`): /me's request and answer, without the
  // authenticate hook, so the cost of verifying the token separates from the cost of its bytes.
  const fixed = { id: randomUUID(), email: 'someone@bench.example.com', sessionId: randomUUID() };
  app.get('/bench/me-unverified', { schema: { response: { 200: Me } } }, (request) => {
    if (!request.headers.authorization) throw new HttpError('token_missing', 'Authentication required');
    return fixed;
  });

  // A full garbage collection (the bench starts this server with --expose-gc) before each RSS
  // reading, so readings compare live memory, not how much garbage happened to be pending.
  app.post('/bench/gc', () => {
    const collect = (globalThis as { gc?: () => void }).gc;
    collect?.();
    collect?.();
    return { collected: collect !== undefined, heapUsed: process.memoryUsage().heapUsed };
  });

  // Lets the runner line up --cpu-prof samples (V8 and libuv both use CLOCK_MONOTONIC) with its scenarios.
  app.get('/bench/clock', () => ({ monotonicUs: Number(process.hrtime.bigint() / 1000n) }));

  const seedKey = process.env.BENCH_SEED_KEY;
  const password = process.env.BENCH_PASSWORD;
  if (!seedKey || !password) return;

  // The product's own hasher, so the stored hash has today's parameters and login never rehashes.
  const passwordHash = await (await createPasswordHasher(config.passwordHashing)).hash(password);
  await app.register(tokensPlugin, { config });
  const tokens = app.authTokens;

  app.post<{ Body: { prefix: string; users: number; sessionsPerUser: number } }>(
    '/bench/seed',
    {
      schema: {
        body: {
          type: 'object',
          properties: {
            prefix: { type: 'string', pattern: '^[a-z0-9-]{1,40}$' },
            users: { type: 'integer', minimum: 1, maximum: 100000 },
            sessionsPerUser: { type: 'integer', minimum: 1, maximum: 100 },
          },
          required: ['prefix', 'users', 'sessionsPerUser'],
        },
      },
    },
    async (request, reply) => {
      if (request.headers['x-bench-key'] !== seedKey) throw new AuthError('token_invalid', 'Wrong bench key');
      const { prefix, users: count, sessionsPerUser } = request.body;
      const now = new Date(config.clock.now());
      const expiresAt = new Date(now.getTime() + config.jwt.refreshTtl * 1000);
      const seeded = Array.from({ length: count }, (_, i) => ({
        id: randomUUID(),
        email: `${prefix}-${i}@bench.example.com`,
        sessions: Array.from({ length: sessionsPerUser }, () => ({ id: randomUUID(), refreshJti: randomUUID() })),
      }));
      const CHUNK = 1000;
      for (let i = 0; i < seeded.length; i += CHUNK) {
        await db.insert(users).values(
          seeded.slice(i, i + CHUNK).map((u) => ({ id: u.id, email: u.email, passwordHash, createdAt: now, updatedAt: now })),
        );
      }
      const rows = seeded.flatMap((u) =>
        u.sessions.map((s) => ({
          id: s.id,
          userId: u.id,
          refreshTokenVersion: 0,
          refreshJti: s.refreshJti,
          createdAt: now,
          lastUsedAt: now,
          expiresAt,
          userAgent: 'bench-seed',
          ip: '127.0.0.1',
        })),
      );
      for (let i = 0; i < rows.length; i += CHUNK) await db.insert(sessions).values(rows.slice(i, i + CHUNK));

      // Exactly what login hands out for these sessions: the same signer, claims and keys.
      return reply.send({
        users: seeded.map((u) => ({
          id: u.id,
          email: u.email,
          sessions: u.sessions.map((s) => {
            const ref = { userId: u.id, sessionId: s.id, refreshTokenVersion: 0 };
            return {
              id: s.id,
              accessToken: tokens.issueAccess({ ...ref, email: u.email }),
              refreshToken: tokens.issueRefresh({ ...ref, jti: s.refreshJti, expiresAt: expiresAt.getTime() }),
            };
          }),
        })),
      });
    },
  );
}
