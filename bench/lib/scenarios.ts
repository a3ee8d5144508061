import type { Fixture, SeededSession } from './fixture.js';
import type { Target } from './load.js';

/**
 * Reference rows: GET /me on Fastify without this project, each served by its own process
 * (bench/reference/), driven and measured like the service's scenarios.
 */
export const REFERENCE_SCENARIOS = ['fastify-bare', 'fastify-service'] as const;
export type ReferenceScenario = (typeof REFERENCE_SCENARIOS)[number];
export const isReference = (name: string): name is ReferenceScenario => (REFERENCE_SCENARIOS as readonly string[]).includes(name);

/** The scenarios run in every round, in this order. */
export const ROUND_SCENARIOS = [
  'baseline',
  'me-unverified',
  'me',
  'me-many-tokens',
  ...REFERENCE_SCENARIOS,
  'session-lookup',
  'refresh',
  'login',
] as const;
export type RoundScenario = (typeof ROUND_SCENARIOS)[number];
/** Run only when named with --only: for analysis, not part of the report's targets. */
export const OPTIONAL_SCENARIOS: readonly RoundScenario[] = ['me-unverified'];

export const DESCRIPTIONS: Record<string, string> = {
  baseline: 'GET /health, no auth: the ceiling',
  me: 'GET /me, one valid Bearer token',
  'me-unverified': 'bench-only GET answering like /me with the same Authorization header, token not verified (analysis)',
  'me-many-tokens': 'GET /me, a different user\'s token on every request',
  'fastify-bare': 'reference: bare Fastify 5 (no logger) answering /me\'s request with /me\'s JSON and schema, token not verified; own process',
  'fastify-service': 'reference: fastify-bare + pino at warn with our redaction, UUID request ids, our security headers and no-store from one sync hook',
  'session-lookup': 'bench-only GET reading a session row and its user (one join) per request',
  refresh: 'POST /auth/refresh, each connection following its own rotation chain',
  login: 'POST /auth/login (argon2id verify + session insert)',
  'argon2-raw': 'argon2id verify of the same hash, in parallel, in the runner process (no HTTP, no database)',
  'me-probe-idle': 'GET /me from 1 connection, server otherwise idle',
  'me-probe-storm': 'GET /me from 1 connection during login-storm',
  'login-storm': 'POST /auth/login at full load, next to the /me probe',
  'logout-all-crowd': 'refresh traffic of many users while one user logs out everywhere',
};

/**
 * Every request goes through the same per-request builder (`next()`), even where nothing
 * changes, so the load generator does the same work in baseline, me and me-many-tokens and
 * the ratios compare the server, not the client.
 */
function rotating(method: 'GET', path: string, headersAt: (n: number) => Record<string, string>, size: number): Target {
  let n = 0;
  return {
    method,
    path,
    connection: () => ({ next: () => ({ headers: headersAt(n++ % size) }) }),
  };
}

export function baselineTarget(): Target {
  return rotating('GET', '/health', () => ({}), 1);
}

/** The `me` scenario's one Authorization header: the first seeded user's access token. */
export function meHeader(fixture: Fixture): { authorization: string } {
  return { authorization: `Bearer ${fixture.main[0]!.sessions[0]!.accessToken}` };
}

export function meTarget(fixture: Fixture): Target {
  const header = meHeader(fixture);
  return rotating('GET', '/me', () => header, 1);
}

export function meManyTokensTarget(fixture: Fixture): Target {
  const headers = fixture.main.map((user) => ({ authorization: `Bearer ${user.sessions[0]!.accessToken}` }));
  return rotating('GET', '/me', (i) => headers[i]!, headers.length);
}

export function sessionLookupTarget(fixture: Fixture): Target {
  const headers = fixture.main.map((user) => ({ 'x-session-id': user.sessions[0]!.id }));
  return rotating('GET', '/bench/session-lookup', (i) => headers[i]!, headers.length);
}

/** Takes `count` fresh chains (distinct users) from the fixture; each is used by one run only. */
export function takeChains(fixture: Fixture, count: number): SeededSession[] {
  if (fixture.chains.length < count) throw new Error(`out of refresh chains (need ${count}, ${fixture.chains.length} left)`);
  return fixture.chains.splice(0, count);
}

/**
 * POST /auth/refresh. Connection i owns `perConnection` chains and cycles through them; each
 * request carries the refresh token the previous answer on that chain returned. A chain
 * that gets a non-200 keeps presenting its last token (and keeps failing, visibly).
 */
export function refreshTarget(fixture: Fixture, connections: number, perConnection = 1): Target {
  const chains = takeChains(fixture, connections * perConnection).map((session) => ({ token: session.refreshToken }));
  return {
    method: 'POST',
    path: '/auth/refresh',
    headers: { 'content-type': 'application/json' },
    connection: (index) => {
      const own = chains.slice(index * perConnection, (index + 1) * perConnection);
      if (own.length === 0) throw new Error(`no refresh chain for connection ${index}`);
      let turn = 0;
      let current = own[0]!;
      return {
        next: () => {
          current = own[turn++ % own.length]!;
          return { body: JSON.stringify({ refreshToken: current.token }) };
        },
        onResponse: (status, body) => {
          if (status === 200) current.token = (JSON.parse(body) as { refreshToken: string }).refreshToken;
        },
      };
    },
  };
}

/** POST /auth/login, cycling through the seeded users (each login opens a new session). */
export function loginTarget(fixture: Fixture): Target {
  const bodies = fixture.main.map((user) => JSON.stringify({ email: user.email, password: fixture.server.password }));
  let n = 0;
  return {
    method: 'POST',
    path: '/auth/login',
    headers: { 'content-type': 'application/json' },
    connection: () => ({ next: () => ({ body: bodies[n++ % bodies.length]! }) }),
  };
}

export function roundTarget(name: RoundScenario, fixture: Fixture, connections: number): Target {
  switch (name) {
    case 'baseline':
      return baselineTarget();
    case 'me':
      return meTarget(fixture);
    case 'me-unverified':
      return { ...meTarget(fixture), path: '/bench/me-unverified' };
    case 'me-many-tokens':
      return meManyTokensTarget(fixture);
    case 'fastify-bare':
    case 'fastify-service':
      // The `me` scenario's request, sent to the reference server's own process.
      return meTarget(fixture);
    case 'session-lookup':
      return sessionLookupTarget(fixture);
    case 'refresh':
      return refreshTarget(fixture, connections);
    case 'login':
      return loginTarget(fixture);
  }
}
