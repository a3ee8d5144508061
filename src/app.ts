import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { createAuthService } from './auth/index.js';
import { createPasswordHasher } from './auth/passwords.js';
import type { Config } from './config/index.js';
import { openDatabase, type Database } from './db/client.js';
import { createAuthenticate } from './http/authenticate.js';
import { registerProblemHandlers } from './http/problem.js';
import { authRoutes } from './http/routes/auth.js';
import { healthRoutes } from './http/routes/health.js';
import { meRoutes } from './http/routes/me.js';
import { createTokens } from './tokens/index.js';

export interface BuildOptions {
  /** pino options, or false for none. */
  logger?: FastifyServerOptions['logger'];
  /** An open database to use instead of opening `config.database`; the caller closes it. */
  database?: Database;
}

/** Request bodies over this are refused with 413 before they are parsed. */
export const BODY_LIMIT = 16 * 1024;

/** Never logged, whatever a serializer or a future log line includes. */
export const REDACTED = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.refreshToken',
  '*.accessToken',
];

/**
 * Builds the whole service as a ready Fastify instance: opens the database and applies
 * pending migrations, then registers the routes. Closing the app closes the database.
 */
export async function buildApp(config: Config, options: BuildOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger === undefined || options.logger === false ? false : withRedaction(options.logger),
    bodyLimit: BODY_LIMIT,
    genReqId: () => randomUUID(),
    ajv: { customOptions: { coerceTypes: false, removeAdditional: true, allErrors: true } },
  });

  const database =
    options.database ??
    (await openDatabase(config.database, (error) => app.log.warn({ err: error }, 'database connection lost')));
  if (!options.database) app.addHook('onClose', () => database.close());
  try {
    await database.migrate();
    const passwords = await createPasswordHasher(config.passwordHashing);
    const auth = createAuthService({
      db: database.db,
      tokens: createTokens(config),
      passwords,
      clock: config.clock,
      refreshTtl: config.jwt.refreshTtl,
      refreshReuseGrace: config.refreshReuseGrace,
    });
    const authenticate = createAuthenticate(auth);

    registerJsonOnly(app);
    app.decorateRequest('auth', null);
    app.decorateRequest('bearer', false);
    registerProblemHandlers(app);

    await app.register(healthRoutes, { ping: database.ping });
    await app.register(authRoutes, { auth, authenticate });
    await app.register(meRoutes, { authenticate });
    await app.ready();
  } catch (error) {
    await app.close();
    throw error;
  }
  return app;
}

/** JSON is the only body this API takes; an empty JSON body counts as no body. */
function registerJsonOnly(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '') return done(null, undefined);
    parseJson(request, body as string, done);
  });
}

function withRedaction(logger: FastifyServerOptions['logger']): FastifyServerOptions['logger'] {
  const base = typeof logger === 'object' && logger !== null ? logger : {};
  return { ...base, redact: { paths: REDACTED, censor: '[redacted]' } };
}
