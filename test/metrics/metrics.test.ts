import Fastify from 'fastify';
import { randomBytes } from 'node:crypto';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import versionedAuth from '../../src/index.js';
import { ADDRESS_LIMIT } from '../../src/plugins/rate-limit.js';
import { LOGIN_LIMITS } from '../../src/auth/login-throttle.js';
import {
  bearer,
  buildTestApp,
  loginWith,
  me,
  PASSWORD,
  problem,
  refreshWith,
  register,
  revokedEventually,
  testConfig,
  uniqueEmail,
  type TestApp,
} from '../helper.js';
import { parseExposition, type Exposition } from '../support/prometheus.js';

/** Counting, not argon2's cost: a cheap hash keeps the hundred guesses below quick. */
const passwordHashing = { memoryCost: 1024, timeCost: 1, parallelism: 1 };
const USER_AGENT = 'metrics-test-agent/1.0 (private)';

let t: TestApp;
beforeAll(async () => {
  // METRICS_PORT set: the plugin records (only src/server.ts listens on it).
  t = await buildTestApp({ metricsPort: 9464, rateLimit: true, passwordHashing });
});
afterAll(() => t.close());

async function scrape(): Promise<Exposition> {
  return parseExposition(await t.app.authMetrics!.metrics());
}

/** What `work` added to each of `series`: [metric, labels] pairs. */
async function moved(series: [string, Record<string, string>?][], work: () => Promise<unknown>): Promise<number[]> {
  const before = await scrape();
  await work();
  const after = await scrape();
  return series.map(([name, labels]) => after.value(name, labels) - before.value(name, labels));
}

const address = () => `10.${[1, 2, 3].map(() => randomBytes(1)[0]).join('.')}`;

describe('counters', () => {
  it('count a registration and logins by result', async () => {
    const email = uniqueEmail('metrics');
    const delta = await moved(
      [
        ['versioned_auth_registrations_total', { result: 'success' }],
        ['versioned_auth_registrations_total', { result: 'email_taken' }],
        ['versioned_auth_logins_total', { result: 'success' }],
        ['versioned_auth_logins_total', { result: 'invalid_credentials' }],
      ],
      async () => {
        await register(t.app, email);
        expect((await t.app.inject({ method: 'POST', url: '/auth/register', payload: { email, password: PASSWORD } })).statusCode).toBe(409);
        expect((await loginWith(t.app, email)).statusCode).toBe(200);
        expect((await loginWith(t.app, email, 'wrong password!')).statusCode).toBe(401);
        expect((await loginWith(t.app, uniqueEmail('nobody'), 'wrong password!')).statusCode).toBe(401);
      },
    );
    expect(delta).toEqual([1, 1, 1, 2]);
  });

  it('count refreshes by outcome: rotated, grace, reused, revoked, expired, invalid', async () => {
    const outcomes = ['rotated', 'grace', 'reused', 'revoked', 'expired', 'invalid'];
    const delta = await moved(
      outcomes.map((outcome) => ['versioned_auth_refreshes_total', { outcome }]),
      async () => {
        const first = await register(t.app);
        expect((await refreshWith(t.app, first.refreshToken)).statusCode).toBe(200); // rotated
        expect((await refreshWith(t.app, first.refreshToken)).statusCode).toBe(200); // grace
        t.clock.advance(t.config.refreshReuseGrace + 1);
        expect(problem(await refreshWith(t.app, first.refreshToken)).code).toBe('refresh_token_reused');

        const second = await register(t.app);
        const res = await t.app.inject({ method: 'POST', url: '/auth/logout-all', headers: bearer(second.accessToken) });
        expect(res.statusCode).toBe(200);
        expect(problem(await refreshWith(t.app, second.refreshToken)).code).toBe('token_revoked');

        const third = await register(t.app);
        t.clock.advance(t.config.jwt.refreshTtl + 60);
        expect(problem(await refreshWith(t.app, third.refreshToken)).code).toBe('token_expired');
        expect(problem(await refreshWith(t.app, 'not.a.token')).code).toBe('token_invalid');
      },
    );
    expect(delta).toEqual([1, 1, 1, 1, 1, 1]);
  });

  it('count access tokens refused by code, and logout-all and password changes', async () => {
    const codes = ['token_missing', 'token_invalid', 'token_expired', 'token_revoked'];
    const delta = await moved(
      [
        ...codes.map((code): [string, Record<string, string>] => ['versioned_auth_access_tokens_refused_total', { code }]),
        ['versioned_auth_logout_all_total', { result: 'success' }],
        ['versioned_auth_password_changes_total', { result: 'success' }],
        ['versioned_auth_password_changes_total', { result: 'invalid_credentials' }],
      ],
      async () => {
        expect(problem(await t.app.inject({ method: 'GET', url: '/me' })).code).toBe('token_missing');
        expect(problem(await me(t.app, 'not.a.token')).code).toBe('token_invalid');
        const expiring = await register(t.app);
        t.clock.advance(t.config.jwt.accessTtl + 120);
        expect(problem(await me(t.app, expiring.accessToken)).code).toBe('token_expired');

        const user = await register(t.app);
        const change = (currentPassword: string) =>
          t.app.inject({ method: 'POST', url: '/auth/password', headers: bearer(user.accessToken), payload: { currentPassword, newPassword: 'another good password' } });
        expect((await change('wrong password!')).statusCode).toBe(401);
        expect((await change(PASSWORD)).statusCode).toBe(200);
        const again = await loginWith(t.app, user.email, 'another good password');
        const token = again.json().accessToken as string;
        expect((await t.app.inject({ method: 'POST', url: '/auth/logout-all', headers: bearer(token) })).statusCode).toBe(200);
        await revokedEventually(t.app, token);
      },
    );
    // revokedEventually may have been refused more than once before the feed delivered; once is enough here.
    expect(delta.slice(0, 3)).toEqual([1, 1, 1]);
    expect(delta[3]).toBe(1);
    expect(delta.slice(4)).toEqual([1, 1, 1]);
  });

  it('count rate-limit refusals by limiter', async () => {
    const delta = await moved(
      [
        ['versioned_auth_rate_limited_total', { limiter: 'address' }],
        ['versioned_auth_rate_limited_total', { limiter: 'password_per_address' }],
        ['versioned_auth_rate_limited_total', { limiter: 'password_per_account' }],
      ],
      async () => {
        const from = address();
        for (let i = 0; i <= ADDRESS_LIMIT.max; i++) {
          await t.app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: 'x' }, remoteAddress: from });
        }
        const { email } = await register(t.app, uniqueEmail('limited'), PASSWORD);
        const guess = (remoteAddress: string) =>
          t.app.inject({ method: 'POST', url: '/auth/login', payload: { email, password: 'wrong password!' }, remoteAddress });
        const pair = address();
        for (let i = 0; i < LOGIN_LIMITS.perAddress.max; i++) expect((await guess(pair)).statusCode).toBe(401);
        expect(problem(await guess(pair)).code).toBe('rate_limited');
        // The account's cap: its other failures from addresses of their own, then one more from a new one.
        for (let i = LOGIN_LIMITS.perAddress.max; i < LOGIN_LIMITS.perAccount.max; i++) expect((await guess(address())).statusCode).toBe(401);
        expect(problem(await guess(address())).code).toBe('rate_limited');
      },
    );
    expect(delta).toEqual([1, 1, 1]);
  });
});

describe('gauges and histograms', () => {
  it('time routes by pattern, method and status, never by URL', async () => {
    const user = await register(t.app);
    const delta = await moved(
      [
        ['versioned_auth_http_request_duration_seconds_count', { method: 'GET', route: '/me', status_code: '200' }],
        ['versioned_auth_http_request_duration_seconds_count', { method: 'GET', route: '/me', status_code: '401' }],
        ['versioned_auth_http_request_duration_seconds_count', { method: 'DELETE', route: '/auth/sessions/:id', status_code: '404' }],
      ],
      async () => {
        expect((await me(t.app, user.accessToken)).statusCode).toBe(200);
        expect((await me(t.app, user.accessToken)).statusCode).toBe(200);
        expect((await me(t.app, 'nope')).statusCode).toBe(401);
        const url = `/auth/sessions/${crypto.randomUUID()}`;
        expect((await t.app.inject({ method: 'DELETE', url, headers: bearer(user.accessToken) })).statusCode).toBe(404);
      },
    );
    expect(delta).toEqual([2, 1, 1]);
  });

  it('count a route answered N times in its histogram: N in _count and +Inf, buckets cumulative, the time in _sum', async () => {
    // An instance of its own: the series is born from these requests.
    const app = await t.another();
    const user = await register(app);
    const N = 7;
    for (let i = 0; i < N; i++) expect((await me(app, user.accessToken)).statusCode).toBe(200);
    const metrics = parseExposition(await app.authMetrics!.metrics());
    const name = 'versioned_auth_http_request_duration_seconds';
    const labels = { method: 'GET', route: '/me', status_code: '200' };
    expect(metrics.types.get(name)).toBe('histogram');
    expect(metrics.value(`${name}_count`, labels)).toBe(N);
    const buckets = metrics.samples.filter((s) => s.name === `${name}_bucket` && s.labels.route === '/me');
    expect(buckets.map((s) => s.labels.le)).toEqual(['0.0005', '0.001', '0.0025', '0.005', '0.01', '0.025', '0.05', '0.1', '0.25', '0.5', '1', '2.5', '5', '10', '+Inf']);
    expect(buckets.at(-1)!.value).toBe(N);
    buckets.forEach((s, i) => expect(s.value).toBeGreaterThanOrEqual(i === 0 ? 0 : buckets[i - 1]!.value));
    expect(metrics.value(`${name}_sum`, labels)).toBeGreaterThan(0);
    // What the bucket counts say the durations were, the sum agrees with: within the bounds of the buckets they fell in.
    const bounds = buckets.map((s) => (s.labels.le === '+Inf' ? Infinity : Number(s.labels.le)));
    const perBucket = buckets.map((s, i) => s.value - (i === 0 ? 0 : buckets[i - 1]!.value));
    const least = perBucket.reduce((sum, count, i) => sum + count * (i === 0 ? 0 : bounds[i - 1]!), 0);
    const most = perBucket.reduce((sum, count, i) => (count === 0 ? sum : sum + count * bounds[i]!), 0);
    expect(metrics.value(`${name}_sum`, labels)).toBeGreaterThanOrEqual(least);
    expect(metrics.value(`${name}_sum`, labels)).toBeLessThanOrEqual(most);
  });

  it('time argon2 and report the database, the feed and the revocation list', async () => {
    const delta = await moved([['versioned_auth_argon2_duration_seconds_count', { operation: 'hash' }], ['versioned_auth_argon2_duration_seconds_count', { operation: 'verify' }]], async () => {
      const user = await register(t.app);
      await loginWith(t.app, user.email);
    });
    expect(delta).toEqual([1, 1]);
    const user = await register(t.app);
    const lag = await moved([['versioned_auth_revocation_feed_lag_seconds_count']], async () => {
      await t.app.inject({ method: 'POST', url: '/auth/logout-all', headers: bearer(user.accessToken) });
      await revokedEventually(t.app, user.accessToken);
    });
    expect(lag).toEqual([1]);
    const now = await scrape();
    expect(now.value('versioned_auth_argon2_in_flight')).toBe(0);
    expect(now.value('versioned_auth_revocation_feed_up')).toBe(1);
    expect(now.value('versioned_auth_revocation_list_entries')).toBeGreaterThanOrEqual(1);
    expect(now.has('versioned_auth_db_connections', { state: 'in_use' })).toBe(true);
    expect(now.has('versioned_auth_db_connections', { state: 'idle' })).toBe(true);
    expect(now.value('versioned_auth_db_waiting')).toBe(0);
    expect(now.types.get('process_cpu_user_seconds_total')).toBe('counter');
  });
});

describe('privacy and cardinality', () => {
  it('no label carries an email, a token, an id, an address or a user agent', async () => {
    // An instance of its own: every series is born from these requests.
    const app = await t.another();
    const from = '192.0.2.77';
    const email = uniqueEmail('private');
    const headers = { 'user-agent': USER_AGENT };
    const reg = await app.inject({ method: 'POST', url: '/auth/register', payload: { email, password: PASSWORD }, headers, remoteAddress: from });
    const body = reg.json();
    await app.inject({ method: 'POST', url: '/auth/login', payload: { email, password: 'wrong password!' }, headers, remoteAddress: from });
    await app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken: body.refreshToken }, headers, remoteAddress: from });
    await app.inject({ method: 'GET', url: `/me?email=${encodeURIComponent(email)}`, headers: { ...headers, ...bearer(body.accessToken) }, remoteAddress: from });
    await app.inject({ method: 'DELETE', url: `/auth/sessions/${body.user.id}`, headers: { ...headers, ...bearer(body.accessToken) }, remoteAddress: from });

    const text = await app.authMetrics!.metrics();
    for (const secret of [email, body.user.id, body.accessToken, body.refreshToken, from, USER_AGENT, 'private']) {
      expect(text, secret).not.toContain(secret);
    }
    const allowed: Record<string, RegExp> = {
      method: /^(GET|HEAD|POST|PUT|PATCH|DELETE|OPTIONS)$/,
      route: /^\/[A-Za-z0-9/_.:*-]*$/,
      status_code: /^[1-5]\d\d$/,
      result: /^[a-z_]+$/,
      outcome: /^(rotated|grace|reused|revoked|expired|invalid|error)$/,
      limiter: /^(address|password_per_address|password_per_account)$/,
      code: /^[a-z_]+$/,
      operation: /^(hash|verify)$/,
      state: /^(in_use|idle)$/,
      le: /^([0-9.e+-]+|\+Inf)$/,
    };
    for (const sample of parseExposition(text).samples.filter((s) => s.name.startsWith('versioned_auth_'))) {
      for (const [label, value] of Object.entries(sample.labels)) {
        expect(allowed[label], `label ${label} of ${sample.name}`).toBeDefined();
        expect(value, `${sample.name}{${label}}`).toMatch(allowed[label]!);
      }
    }
  });
});

describe('the metrics option', () => {
  it('is off without METRICS_PORT: no registry, nothing recorded', async () => {
    const off = await t.another({ config: { ...t.config, metricsPort: undefined } });
    expect(off.authMetrics).toBeNull();
    expect(off.hasDecorator('authMetrics')).toBe(true);
  });

  it("puts ours in a host's registry, refuses a second instance there, and takes them out on close", async () => {
    const registry = new Registry();
    const build = async () => {
      const app = Fastify();
      await app.register(versionedAuth, { config: testConfig({ database: t.config.database }), database: t.database, metrics: { registry } });
      await app.ready();
      return app;
    };
    const app = await build();
    expect(app.authMetrics).toBe(registry);
    expect(await registry.getSingleMetric('versioned_auth_logins_total')).toBeDefined();
    expect(registry.getSingleMetric('process_cpu_user_seconds_total')).toBeUndefined();
    await expect(build()).rejects.toThrow(/versioned_auth_/);
    await app.close();
    expect(registry.getSingleMetric('versioned_auth_logins_total')).toBeUndefined();
    const again = await build();
    await again.close();
  });

  it('gives two instances registries of their own: no clash, separate counts', async () => {
    const other = await t.another({ config: { ...t.config } });
    expect(other.authMetrics).not.toBe(t.app.authMetrics);
    const before = parseExposition(await t.app.authMetrics!.metrics()).value('versioned_auth_logins_total');
    await loginWith(other, uniqueEmail('nobody'), 'wrong password!');
    expect(parseExposition(await other.authMetrics!.metrics()).value('versioned_auth_logins_total')).toBe(1);
    expect(parseExposition(await t.app.authMetrics!.metrics()).value('versioned_auth_logins_total')).toBe(before);
  });
});
