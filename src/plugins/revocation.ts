import fp from 'fastify-plugin';
import type { Config } from '../config/index.js';
import { startRevocationFeed, type RevocationFeed } from '../revocation/feed.js';
import { RevocationList, type RevocableClaims } from '../revocation/list.js';
import { CLOCK_SKEW_SECONDS } from '../tokens/claims.js';

/** Why a verified access token is refused anyway, or undefined when it passes. */
export type RevocationCheck = (claims: RevocableClaims) => 'token_revoked' | 'service_unavailable' | undefined;

export interface Revocation {
  mode: Config['accessTokenRevocation'];
  /** Absent with ACCESS_TOKEN_REVOCATION=off. */
  list?: RevocationList;
  feed?: RevocationFeed;
  /** What `authenticate` asks after the signature; absent with `off`. */
  check?: RevocationCheck;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Access-token revocation: the in-memory list and the feed that fills it (docs/revocation.md). */
    authRevocation: Revocation;
  }
}

/**
 * Starts the revocation feed (unless ACCESS_TOKEN_REVOCATION=off) once the database is
 * migrated, and stops it with the app.
 */
export default fp<{ config: Pick<Config, 'accessTokenRevocation' | 'clock' | 'jwt'> }>(
  async (app, { config }) => {
    const mode = config.accessTokenRevocation;
    if (mode === 'off') {
      app.decorate('authRevocation', { mode });
      return;
    }
    const list = new RevocationList(config.clock, (config.jwt.accessTtl + CLOCK_SKEW_SECONDS) * 1000);
    const metrics = app.authInstruments;
    const feed = await startRevocationFeed({ database: app.authDatabase, list, clock: config.clock, log: app.log, lag: metrics?.revocationLag });
    if (metrics) metrics.sources.revocation = () => ({ up: feed.up, entries: list.size });
    app.addHook('onClose', () => feed.close());
    const check: RevocationCheck =
      mode === 'strict'
        ? (claims) => (!feed.up ? 'service_unavailable' : list.isRevoked(claims) ? 'token_revoked' : undefined)
        : (claims) => (list.isRevoked(claims) ? 'token_revoked' : undefined);
    app.decorate('authRevocation', { mode, list, feed, check });
  },
  { name: 'versioned-auth-revocation', fastify: '5.x', dependencies: ['versioned-auth-database'] },
);
