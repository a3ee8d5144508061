import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { AuthMetrics } from '../auth/metrics.js';
import type { PasswordHasher } from '../auth/passwords.js';
import type { PoolStats } from '../db/client.js';
import { RouteHistogram } from './route-histogram.js';

/**
 * Every metric versioned-auth exports, in one place (docs/operations.md#metrics lists them).
 * Label values are fixed words, error codes, HTTP methods, route patterns and status codes:
 * never an email, a token, an address or a user agent, so the series stay few and say
 * nothing about anyone.
 */
export const METRIC_PREFIX = 'versioned_auth_';

/** What the gauges read at scrape time; set by the plugins that own those things. */
export interface MetricSources {
  database?: () => PoolStats;
  revocation?: () => { up: boolean; entries: number };
}

export type Metrics = ReturnType<typeof defineMetrics>;

/** Registers every metric in `registry` (throws if one of the names is there already). */
export function defineMetrics(registry: Registry) {
  const registers = [registry];
  const name = (suffix: string) => METRIC_PREFIX + suffix;
  const sources: MetricSources = {};

  // On every request: a histogram of our own, read by prom-client at scrape time (route-histogram.ts says why).
  const httpDuration = new RouteHistogram({
    name: name('http_request_duration_seconds'),
    help: 'Time from the request to the end of the response, by route pattern (unmatched URLs are not routes), method and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const logins = new Counter({
    name: name('logins_total'),
    help: 'Password sign-ins, by result: success or the refusal code (invalid_credentials, rate_limited, …)',
    labelNames: ['result'] as const,
    registers,
  });
  const registrations = new Counter({
    name: name('registrations_total'),
    help: 'Account registrations, by result: success or the refusal code (email_taken, validation_failed, …)',
    labelNames: ['result'] as const,
    registers,
  });
  const refreshes = new Counter({
    name: name('refreshes_total'),
    help: 'Refresh token presentations, by outcome: rotated, grace (a spent token within REFRESH_REUSE_GRACE), reused (theft: the session is revoked), revoked, expired, invalid, error',
    labelNames: ['outcome'] as const,
    registers,
  });
  const logoutAll = new Counter({
    name: name('logout_all_total'),
    help: 'Logout-everywhere requests, by result',
    labelNames: ['result'] as const,
    registers,
  });
  const passwordChanges = new Counter({
    name: name('password_changes_total'),
    help: 'Password changes, by result',
    labelNames: ['result'] as const,
    registers,
  });
  const rateLimited = new Counter({
    name: name('rate_limited_total'),
    help: 'Requests refused with 429, by limiter: address (requests per address on /auth/*), password_per_address, password_per_account (failed-password throttle)',
    labelNames: ['limiter'] as const,
    registers,
  });
  const accessRefused = new Counter({
    name: name('access_tokens_refused_total'),
    help: 'Requests to Bearer routes refused by the access-token check, by problem code',
    labelNames: ['code'] as const,
    registers,
  });

  let argon2InFlight = 0;
  new Gauge({
    name: name('argon2_in_flight'),
    help: 'argon2 hashes and verifications started and not finished: running on libuv\'s thread pool or waiting for one of its UV_THREADPOOL_SIZE (default 4) threads',
    registers,
    collect() {
      this.set(argon2InFlight);
    },
  });
  const argon2Duration = new Histogram({
    name: name('argon2_duration_seconds'),
    help: 'Time an argon2 operation took, waiting for a pool thread included, by operation (hash, verify)',
    labelNames: ['operation'] as const,
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });

  new Gauge({
    name: name('db_connections'),
    help: 'Database connections by state: in_use, idle (pg pool; PGlite is one in-process connection)',
    labelNames: ['state'] as const,
    registers,
    collect() {
      const stats = sources.database?.();
      if (!stats) return;
      this.set({ state: 'in_use' }, stats.total - stats.idle);
      this.set({ state: 'idle' }, stats.idle);
    },
  });
  new Gauge({
    name: name('db_waiting'),
    help: 'Queries waiting for a database connection (pg: for a pool client; PGlite: behind the query it is running)',
    registers,
    collect() {
      const stats = sources.database?.();
      if (stats) this.set(stats.waiting);
    },
  });

  new Gauge({
    name: name('revocation_feed_up'),
    help: 'The revocation feed is listening (1) or down (0: access tokens are checked by signature only, or refused with ACCESS_TOKEN_REVOCATION=strict); absent with ACCESS_TOKEN_REVOCATION=off. Across WORKERS: the lowest',
    registers,
    aggregator: 'min',
    collect() {
      const state = sources.revocation?.();
      if (state) this.set(state.up ? 1 : 0);
    },
  });
  new Gauge({
    name: name('revocation_list_entries'),
    help: 'Revoked sessions and users held in memory (the revocations of the last ACCESS_TOKEN_TTL)',
    registers,
    aggregator: 'max',
    collect() {
      const state = sources.revocation?.();
      if (state) this.set(state.entries);
    },
  });
  const revocationLag = new Histogram({
    name: name('revocation_feed_lag_seconds'),
    help: 'From a revocation\'s commit (the writer\'s clock) to its notification reaching this instance (clocks of different hosts included)',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });

  const recorder: AuthMetrics = {
    result(operation, result) {
      const counter = operation === 'login' ? logins : operation === 'register' ? registrations : operation === 'logout_all' ? logoutAll : passwordChanges;
      counter.inc({ result });
    },
    refresh: (outcome) => refreshes.inc({ outcome }),
    rateLimited: (limiter) => rateLimited.inc({ limiter }),
    accessRefused: (code) => accessRefused.inc({ code }),
  };

  return {
    registry,
    sources,
    recorder,
    httpDuration,
    /** Seconds from a revocation's `at` to now; a clock behind the writer's counts as 0. */
    revocationLag: (seconds: number) => revocationLag.observe(Math.max(0, seconds)),
    /** The hasher, counting its operations in flight and timing them (a wrong password and an unknown email alike). */
    timedHasher(hasher: PasswordHasher): PasswordHasher {
      const timed = async <T>(operation: 'hash' | 'verify', work: () => Promise<T>): Promise<T> => {
        const end = argon2Duration.startTimer({ operation });
        argon2InFlight++;
        try {
          return await work();
        } finally {
          argon2InFlight--;
          end();
        }
      };
      return {
        hash: (password) => timed('hash', () => hasher.hash(password)),
        verify: (hash, password) => timed('verify', () => hasher.verify(hash, password)),
        needsRehash: (hash) => hasher.needsRehash(hash),
        verifyDummy: (password) => timed('verify', () => hasher.verifyDummy(password)),
      };
    },
  };
}
