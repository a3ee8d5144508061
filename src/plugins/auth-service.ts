import fp from 'fastify-plugin';
import { createAuthService, type AuthService } from '../auth/index.js';
import { NO_METRICS } from '../auth/metrics.js';
import { createPasswordHasher } from '../auth/passwords.js';
import type { Config } from '../config/index.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The use cases: register, login, refresh, logout, devices, password, deletion. */
    authService: AuthService;
  }
}

/** Binds the use cases to the database, the tokens, the password hasher and the login limits. */
export default fp<{ config: Config }>(
  async (app, { config }) => {
    const metrics = app.authInstruments;
    const passwords = await createPasswordHasher(config.passwordHashing);
    app.decorate(
      'authService',
      createAuthService({
        db: app.authDatabase.db,
        tokens: app.authTokens,
        passwords: metrics ? metrics.timedHasher(passwords) : passwords,
        clock: config.clock,
        refreshTtl: config.jwt.refreshTtl,
        refreshReuseGrace: config.refreshReuseGrace,
        loginThrottle: app.authRateLimit.loginThrottle,
        metrics: metrics?.recorder ?? NO_METRICS,
      }),
    );
  },
  {
    name: 'versioned-auth-service',
    fastify: '5.x',
    dependencies: ['versioned-auth-metrics', 'versioned-auth-database', 'versioned-auth-tokens', 'versioned-auth-rate-limit'],
  },
);
