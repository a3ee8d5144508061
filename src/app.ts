import { isUtf8 } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import cookie from '@fastify/cookie';
import cors from '@fastify/cors';
import rateLimit from '@fastify/rate-limit';
import { Redis } from 'ioredis';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { createAuthService } from './auth/index.js';
import { createLoginThrottle } from './auth/login-throttle.js';
import { createPasswordHasher } from './auth/passwords.js';
import type { Config } from './config/index.js';
import { openDatabase, type Database } from './db/client.js';
import { createMemoryCounters, createRedisCounters, failOpen } from './db/counters.js';
import { AuthError } from './errors.js';
import { createAuthenticate } from './http/authenticate.js';
import { loggerOptions } from './http/logging.js';
import { clientErrorHandler, frameworkErrors, registerProblemHandlers } from './http/problem.js';
import { accountRoutes } from './http/routes/account.js';
import { authRoutes } from './http/routes/auth.js';
import { healthRoutes } from './http/routes/health.js';
import { meRoutes } from './http/routes/me.js';
import { registerSecurityHeaders } from './http/security-headers.js';
import { sessionRoutes } from './http/routes/sessions.js';
import { cookieSettings, TRANSPORT_HEADER } from './http/transport.js';
import { createTokens } from './tokens/index.js';

export interface BuildOptions {
  /** pino options, or false for none. */
  logger?: FastifyServerOptions['logger'];
  /** An open database to use instead of opening `config.database`; the caller closes it. */
  database?: Database;
  /** Registers extra routes before the app is ready (the benchmark's comparison route); never used by the server. */
  extend?: (app: FastifyInstance, context: { database: Database }) => Promise<void>;
}

/** Request bodies over this are refused with 413 before they are parsed. */
export const BODY_LIMIT = 16 * 1024;

/** Requests per client address per minute on /auth/* and DELETE /me (all together). */
export const ADDRESS_LIMIT = { max: 100, timeWindow: 60_000 };

/**
 * Builds the whole service as a ready Fastify instance: opens the database and applies
 * pending migrations, then registers the routes. Closing the app closes the database.
 */
export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: loggerOptions(options.logger),
    bodyLimit: BODY_LIMIT,
    genReqId: () => randomUUID(),
    frameworkErrors,
    clientErrorHandler,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: true, allErrors: true } },
  });

  const database =
    options.database ??
    (await openDatabase(config.database, (error) => app.log.warn({ err: error }, 'database connection lost')));
  if (!options.database) app.addHook('onClose', () => database.close());
  try {
    await database.migrate();
    const passwords = await createPasswordHasher(config.passwordHashing);
    const redis = config.rateLimit && config.redisUrl ? await connectRedis(config.redisUrl, app) : undefined;
    const counters = redis ? createRedisCounters(redis, config.clock, config.redisKeyPrefix) : createMemoryCounters(config.clock);
    const storeFailed = (error: unknown) => app.log.warn({ err: error }, 'rate-limit store unavailable: not limiting');
    const auth = createAuthService({
      db: database.db,
      tokens: createTokens(config),
      passwords,
      clock: config.clock,
      refreshTtl: config.jwt.refreshTtl,
      refreshReuseGrace: config.refreshReuseGrace,
      loginThrottle: config.rateLimit ? createLoginThrottle(failOpen(counters, config.clock, storeFailed), config.clock) : undefined,
    });
    const authenticate = createAuthenticate(auth);

    registerJsonOnly(app);
    app.decorateRequest('auth', null);
    app.decorateRequest('bearer', false);
    registerProblemHandlers(app);

    const cookies = cookieSettings(config.cookieSecure, config.corsOrigins);

    registerSecurityHeaders(app);
    if (cookies.allowedOrigins.size > 0) {
      await app.register(cors, {
        origin: (origin, callback) => callback(null, origin !== undefined && cookies.allowedOrigins.has(origin)),
        credentials: true,
        methods: ['GET', 'POST', 'DELETE'],
        allowedHeaders: ['Authorization', 'Content-Type', TRANSPORT_HEADER],
        exposedHeaders: ['Retry-After', 'WWW-Authenticate'],
        maxAge: 600,
      });
    }
    await app.register(healthRoutes, { ping: database.ping });
    // GET /me has a scope of its own: no cookie parsing or writing on the hot path.
    await app.register(meRoutes, { authenticate });
    await app.register(async (scope) => {
      if (config.rateLimit) {
        await scope.register(rateLimit, {
          ...ADDRESS_LIMIT,
          ...(redis ? { redis, nameSpace: `${config.redisKeyPrefix}address:` } : {}),
          skipOnError: true,
          errorResponseBuilder: (_request, context) =>
            new AuthError('rate_limited', 'Too many requests', undefined, Math.max(1, Math.ceil(context.ttl / 1000))),
        });
      }
      await scope.register(cookie, { hook: false });
      await scope.register(authRoutes, { auth, authenticate, cookies });
      await scope.register(sessionRoutes, { auth, authenticate });
      await scope.register(accountRoutes, { auth, authenticate, cookies });
    });
    if (options.extend) await options.extend(app, { database });
    await app.ready();
  } catch (error) {
    await app.close();
    throw error;
  }
  return app;
}

/**
 * One Redis connection for both limiters. Commands fail fast rather than queue while it is
 * down (the limiters then fail open); a server that starts while Redis is down starts
 * anyway and connects when Redis comes back.
 */
async function connectRedis(url: string, app: FastifyInstance): Promise<Redis> {
  const redis = new Redis(url, { connectTimeout: 2000, maxRetriesPerRequest: 1, enableOfflineQueue: false, lazyConnect: true });
  redis.on('error', (error) => app.log.warn({ err: error }, 'redis connection error'));
  app.addHook('onClose', async () => {
    await redis.quit().catch(() => redis.disconnect());
  });
  await redis.connect().catch((error: unknown) => app.log.warn({ err: error }, 'redis unreachable at start'));
  return redis;
}

/**
 * JSON is the only body this API takes; an empty JSON body counts as no body. Bytes that
 * are not UTF-8 are not JSON (RFC 8259) and would otherwise turn silently into U+FFFD.
 */
function registerJsonOnly(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    const bytes = body as Buffer;
    if (bytes.length === 0) return done(null, undefined);
    if (!isUtf8(bytes)) return done(new AuthError('invalid_json', 'The body is not UTF-8'), undefined);
    parseJson(request, bytes.toString('utf8'), done);
  });
}
