import cookie from '@fastify/cookie';
import type { FastifyPluginAsync, FastifyRequest, onRequestHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import type { Registry } from 'prom-client';
import './fastify-types.js';
import { requireSigningKeys, type Config } from './config/index.js';
import type { Database } from './db/client.js';
import { accountRoutes } from './http/routes/account.js';
import { authRoutes } from './http/routes/auth.js';
import { eventRoutes } from './http/routes/events.js';
import { healthRoutes } from './http/routes/health.js';
import { jwksRoutes } from './http/routes/jwks.js';
import { meRoutes } from './http/routes/me.js';
import { sessionRoutes } from './http/routes/sessions.js';
import { cookieSettings, type CookieSettings } from './http/transport.js';
import authService from './plugins/auth-service.js';
import { createAuthenticate } from './plugins/authenticate.js';
import closing from './plugins/closing.js';
import cors from './plugins/cors.js';
import database from './plugins/database.js';
import jsonBody from './plugins/json-body.js';
import maintenance from './plugins/maintenance.js';
import metrics, { type MetricsOption } from './plugins/metrics.js';
import openapi from './plugins/openapi.js';
import problem from './plugins/problem.js';
import rateLimit from './plugins/rate-limit.js';
import revocation from './plugins/revocation.js';
import securityHeaders from './plugins/security-headers.js';
import tokens from './plugins/tokens.js';
import type { AccessClaims } from './tokens/index.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The plugin's metrics registry (the `metrics` option), null when metrics are off; renamed by `decorators.metrics`. */
    authMetrics: Registry | null;
    /** What our own route files read: the guard, the claims it set, the refresh cookie's settings. */
    authHttp: {
      authenticate: onRequestHookHandler;
      claimsOf(request: FastifyRequest): AccessClaims;
      cookies: CookieSettings;
    };
  }
}

export interface VersionedAuthOptions {
  /** From `loadConfig(process.env)` (with `useDevelopmentKeys` in development). */
  config: Config;
  /** An open database of `openDatabase`, owned (and closed) by the caller; migrated all the same. */
  database?: Database;
  /** Moves every route of ours under it (`/api` → `/api/auth/login`), the refresh cookie's `Path` too. */
  prefix?: string;
  /** The names of what the plugin gives the host, for a host that already uses them. */
  decorators?: { authenticate?: string; user?: string; metrics?: string };
  /**
   * Prometheus metrics (prom-client; docs/operations.md#metrics), never served on our routes:
   * `true`, a registry of the plugin's own (with Node's default metrics), the host's to serve
   * at `app.authMetrics`; `{ registry }`, ours go into the host's registry; `false`, none and
   * no cost. Default: `true` when `config.metricsPort` is set, else `false`.
   */
  metrics?: MetricsOption;
  /**
   * `false`: no `GET /openapi.json` and no `GET /docs` (a host that publishes its own
   * document: a host's @fastify/swagger registered before this plugin lists our routes too).
   */
  openapi?: boolean;
  /**
   * Background pruning of ended sessions and old log rows (docs/operations.md#bounded-tables):
   * on by default, `false` for none in this instance, `{ everyMs }` for another period.
   */
  maintenance?: boolean | { everyMs: number };
}

/**
 * versioned-auth as a Fastify plugin. The host gets `authenticate` and `request.user`;
 * everything else (routes, JSON-only parsing, problem+json errors, CORS, security headers,
 * rate limits, @fastify/jwt) lives in an encapsulated context and governs only our routes.
 */
const versionedAuth: FastifyPluginAsync<VersionedAuthOptions> = async (host, options) => {
  const { config } = options;
  if (!config?.jwt) throw new Error('versioned-auth: the `config` option is required (loadConfig(process.env))');
  requireSigningKeys(config);
  const prefix = normalisePrefix(options.prefix);
  const names = { authenticate: 'authenticate', user: 'user', metrics: 'authMetrics', ...options.decorators };
  host.decorateRequest(names.user, null);
  // In the host's context, before our routes and the host's own that follow.
  await host.register(closing);

  await host.register(
    async (app) => {
      // First: it times the routes registered after it, and the plugins below record into it.
      await app.register(metrics, { metrics: options.metrics ?? config.metricsPort !== undefined });
      host.decorate(names.metrics, app.authInstruments?.registry ?? null);
      await app.register(database, { config: config.database, database: options.database });
      await app.register(tokens, { config });
      await app.register(revocation, { config });
      await app.register(maintenance, {
        config,
        enabled: options.maintenance !== false,
        ...(typeof options.maintenance === 'object' ? options.maintenance : {}),
      });
      await app.register(rateLimit, { config });
      await app.register(authService, { config });
      await app.register(problem, { notFound: prefix !== '', clock: config.clock });
      await app.register(jsonBody);
      await app.register(securityHeaders);
      await app.register(cors, { origins: config.corsOrigins });

      const revoked = app.authRevocation.check;
      const refused = app.authInstruments?.recorder.accessRefused;
      host.decorate(names.authenticate, createAuthenticate(app.authTokens, names.user, false, revoked, undefined, refused));
      app.decorateRequest('bearerCredential', false);
      const cookies = cookieSettings(config.cookieSecure, config.corsOrigins, `${prefix}/auth`);
      app.decorate('authHttp', {
        authenticate: createAuthenticate(app.authTokens, names.user, true, revoked, undefined, refused),
        claimsOf: (request: FastifyRequest) => {
          const claims = (request as unknown as Record<string, AccessClaims | null>)[names.user];
          if (!claims) throw new Error('route is missing the authenticate hook');
          return claims;
        },
        cookies,
      });

      // Before the routes: the document is collected as they register.
      if (options.openapi !== false) await app.register(openapi, { cookies, docs: config.docs, prefix });

      await app.register(healthRoutes);
      await app.register(jwksRoutes);
      // GET /me has a scope of its own: no cookie parsing or writing, no rate limiter on the hot path.
      await app.register(meRoutes);
      await app.register(async (scope) => {
        await scope.authRateLimit.limitByAddress(scope);
        await scope.register(cookie, { hook: false });
        await scope.register(authRoutes);
        await scope.register(sessionRoutes);
        await scope.register(accountRoutes);
        await scope.register(eventRoutes);
      });
    },
    { prefix },
  );
};

/** `''`, or `/segment…` without a trailing slash. */
function normalisePrefix(prefix: string | undefined): string {
  if (prefix === undefined || prefix === '' || prefix === '/') return '';
  if (!/^\/[A-Za-z0-9._~\-/]*[^/]$/.test(prefix)) throw new Error(`versioned-auth: prefix ${JSON.stringify(prefix)} must look like /api`);
  return prefix;
}

export default fp(versionedAuth, { name: 'versioned-auth', fastify: '5.x' });
