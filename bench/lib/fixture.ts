import type { MeAnswer } from '../reference/apps.js';
import { meHeader, type ReferenceScenario } from './scenarios.js';
import type { ChildServer, ServerProcess } from './server-process.js';

export interface SeededSession {
  id: string;
  accessToken: string;
  refreshToken: string;
}

export interface SeededUser {
  id: string;
  email: string;
  sessions: SeededSession[];
}

/** The users, sessions and tokens a run needs, seeded once before any measurement. */
export interface Fixture {
  server: ServerProcess;
  /** One session per user: access tokens for /me and me-many-tokens, ids for session-lookup, emails for login. */
  main: SeededUser[];
  /** Fresh single-session users: every refresh load run takes its own chains from here. */
  chains: SeededSession[];
  /** One user with several sessions (devices): the one who logs out everywhere. */
  victim: SeededUser;
}

export interface FixtureSizes {
  users: number;
  chains: number;
  victimSessions: number;
}

/** Seeds through the bench-only route (see bench/server.ts): no argon2 per user. */
export async function seedFixture(server: ServerProcess, sizes: FixtureSizes): Promise<Fixture> {
  const seed = async (prefix: string, users: number, sessionsPerUser: number): Promise<SeededUser[]> => {
    const response = await fetch(`${server.baseUrl}/bench/seed`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-bench-key': server.seedKey },
      body: JSON.stringify({ prefix, users, sessionsPerUser }),
    });
    if (!response.ok) throw new Error(`seeding ${prefix} failed: ${response.status} ${await response.text()}`);
    return ((await response.json()) as { users: SeededUser[] }).users;
  };
  const main = await seed('main', sizes.users, 1);
  const chains = (await seed('chain', sizes.chains, 1)).map((user) => user.sessions[0]!);
  const [victim] = await seed('victim', 1, sizes.victimSessions);
  return { server, main, chains, victim: victim! };
}

/**
 * Checks that the seeded data is what the API hands out itself: a seeded access token
 * passes /me, a seeded refresh token rotates, a seeded password logs in, a session id
 * passes session-lookup. Consumes one chain.
 */
export async function preflight(fixture: Fixture): Promise<void> {
  const { baseUrl, password } = fixture.server;
  const user = fixture.main[0]!;
  const expect = async (what: string, response: Response, status: number) => {
    if (response.status !== status) throw new Error(`preflight ${what}: ${response.status} ${await response.text()}`);
  };
  await expect('GET /health', await fetch(`${baseUrl}/health`), 200);
  await expect('GET /me', await fetch(`${baseUrl}/me`, { headers: { authorization: `Bearer ${user.sessions[0]!.accessToken}` } }), 200);
  await expect(
    'GET /bench/session-lookup',
    await fetch(`${baseUrl}/bench/session-lookup`, { headers: { 'x-session-id': user.sessions[0]!.id } }),
    200,
  );
  const chain = fixture.chains.shift();
  if (!chain) throw new Error('preflight: no refresh chain left');
  await expect('POST /auth/refresh', await postJson(`${baseUrl}/auth/refresh`, { refreshToken: chain.refreshToken }), 200);
  await expect('POST /auth/login', await postJson(`${baseUrl}/auth/login`, { email: user.email, password }), 200);
}

/** The service's answer to the `me` scenario's request: the reference servers answer the same. */
export async function meAnswer(fixture: Fixture): Promise<MeAnswer> {
  const response = await fetch(`${fixture.server.baseUrl}/me`, { headers: meHeader(fixture) });
  if (!response.ok) throw new Error(`GET /me: ${response.status} ${await response.text()}`);
  return (await response.json()) as MeAnswer;
}

/** Headers that say nothing about the answer's work: when and how it was sent. */
const TRANSPORT_HEADERS = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding']);

/** A server's answer to the `me` scenario's request: status, body and the headers that describe it. */
export interface RecordedAnswer {
  status: number;
  body: string;
  headers: Map<string, string>;
}

/** Sends the `me` scenario's request to `baseUrl` and records the answer. */
export async function recordMeAnswer(fixture: Fixture, baseUrl: string): Promise<RecordedAnswer> {
  const response = await fetch(`${baseUrl}/me`, { headers: meHeader(fixture) });
  const headers = new Map<string, string>();
  response.headers.forEach((value, header) => {
    if (!TRANSPORT_HEADERS.has(header)) headers.set(header, value);
  });
  return { status: response.status, body: await response.text(), headers };
}

/**
 * Checks a reference server against the service on the `me` scenario's request: it must
 * answer 200 (else the run stops); a body that differs, or for fastify-service a header
 * the service's /me sends differently, comes back as a warning for the report: the
 * reference is then no longer a like-for-like comparison.
 */
export async function checkReference(fixture: Fixture, name: ReferenceScenario, reference: ChildServer): Promise<string[]> {
  const [ours, theirs] = await Promise.all([recordMeAnswer(fixture, fixture.server.baseUrl), recordMeAnswer(fixture, reference.baseUrl)]);
  return compareWithService(name, ours, theirs);
}

/** checkReference's comparison, for answers recorded at different times (the `--instructions` mode). */
export function compareWithService(name: ReferenceScenario, ours: RecordedAnswer, theirs: RecordedAnswer): string[] {
  if (theirs.status !== 200) throw new Error(`preflight ${name} GET /me: ${theirs.status} ${theirs.body}`);
  const warnings: string[] = [];
  if (theirs.body !== ours.body) warnings.push(`${name} answers /me with ${theirs.body}, the service with ${ours.body}`);
  if (name === 'fastify-service') {
    const names = new Set([...ours.headers.keys(), ...theirs.headers.keys()]);
    const differing = [...names].filter((header) => ours.headers.get(header) !== theirs.headers.get(header));
    if (differing.length) warnings.push(`${name}'s /me headers differ from the service's: ${differing.sort().join(', ')}`);
  }
  return warnings;
}

export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}
