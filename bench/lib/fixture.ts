import type { ServerProcess } from './server-process.js';

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

export function postJson(url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
}
