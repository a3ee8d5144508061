import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../config/clock.js';
import { openDatabase, type Database } from '../db/client.js';
import type { RevocationCheck } from '../plugins/revocation.js';
import { startRevocationFeed } from '../revocation/feed.js';
import { RevocationList } from '../revocation/list.js';
import { CLOCK_SKEW_SECONDS } from '../tokens/claims.js';

export interface FollowOptions {
  /** The auth service's PostgreSQL (`postgres://…`), opened read-only; or `database`, an open one the caller owns. */
  databaseUrl?: string;
  database?: Database;
  /** Seconds: at least the service's ACCESS_TOKEN_TTL. */
  accessTokenTtl: number;
  clock: Clock;
  log: FastifyBaseLogger;
}

export interface Following {
  /** `token_revoked` for a token older than a revocation that covers it. */
  check: RevocationCheck;
  /** True while the feed listens. */
  readonly up: boolean;
  close(): Promise<void>;
}

/**
 * Follows the auth service's revocation feed, as each of its instances does in `instant`
 * mode: the same list and feed (src/revocation), so a token is refused within about a
 * second of a sign-out, and checked by signature alone (one warning) while the feed is
 * down. It only reads: no migration, no pruning, and its own sessions are read-only.
 */
export async function followRevocations(options: FollowOptions): Promise<Following> {
  const { clock, log, accessTokenTtl } = options;
  const database =
    options.database ??
    (await openDatabase({ kind: 'postgres', url: readOnlyUrl(options.databaseUrl!) }, (error) =>
      log.warn({ reason: error.message }, 'revocation database connection lost'),
    ));
  const list = new RevocationList(clock, (accessTokenTtl + CLOCK_SKEW_SECONDS) * 1000);
  const feed = await startRevocationFeed({ database, list, clock, log });
  let warnedLifetime = false;
  return {
    check(claims) {
      if (list.isRevoked(claims)) return 'token_revoked';
      // A token living longer than the window could outlive the entry that revokes it.
      const { exp, iat } = claims as typeof claims & { exp: number; iat: number };
      if (!warnedLifetime && exp - iat > accessTokenTtl) {
        warnedLifetime = true;
        log.warn({ accessTokenTtl }, 'an access token lives longer than revocation.accessTokenTtl: set it to the auth service\'s ACCESS_TOKEN_TTL');
      }
      return undefined;
    },
    get up() {
      return feed.up;
    },
    close: async () => {
      await feed.close();
      if (!options.database) await database.close();
    },
  };
}

/** The URL with every session read-only (`default_transaction_read_only`): the schema and its rows are the auth service's. */
export function readOnlyUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  const options = url.searchParams.get('options');
  url.searchParams.set('options', `${options ? `${options} ` : ''}-c default_transaction_read_only=on`);
  return url.toString();
}
