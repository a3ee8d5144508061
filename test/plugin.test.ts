import fastifyCors from '@fastify/cors';
import fastifyJwt from '@fastify/jwt';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// By the package's name, as a team that installed it would: resolved through package.json "exports" to dist/.
import versionedAuth, { openDatabase, productionWarnings, serverOptions, type Config } from 'versioned-auth';
import { checkDeclaredResponses } from './support/declared-responses.js';
import { bearer, createTestDatabase, decodeJwt, PASSWORD, problem, testClock, testConfig, uniqueEmail, type TestClock } from './helper.js';

interface Host {
  app: FastifyInstance;
  clock: TestClock;
  config: Config;
  close(): Promise<void>;
}

/** A team's own app: its routes beside ours, built with or without our server options. */
async function host(
  build: (config: Config) => FastifyInstance,
  options: Record<string, unknown> = {},
  around: { before?(app: FastifyInstance): void; after?(app: FastifyInstance): void } = {},
  overrides: Partial<Config> = {},
): Promise<Host> {
  const clock = testClock();
  const testDb = await createTestDatabase();
  const config = testConfig({ clock, database: testDb.config, ...overrides });
  const database = await openDatabase(config.database);
  const app = build(config);
  checkDeclaredResponses(app);
  around.before?.(app);
  await app.register(versionedAuth, { config, database, ...options });
  around.after?.(app);
  app.get('/orders', { onRequest: app.authenticate }, async (request) => ({ owner: request.user.sub }));
  app.post('/echo', async (request) => ({ body: request.body }));
  await app.ready();
  return {
    app,
    clock,
    config,
    close: async () => {
      await app.close();
      await database.close();
      await testDb.drop();
    },
  };
}

async function signUp(app: FastifyInstance, prefix = '') {
  const res = await app.inject({ method: 'POST', url: `${prefix}/auth/register`, payload: { email: uniqueEmail('host'), password: PASSWORD } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { accessToken: string; refreshToken: string; user: { id: string } };
}

describe.each([
  ['with serverOptions(config)', (config: Config) => Fastify(serverOptions(config))],
  ['with a plain Fastify()', () => Fastify()],
])("a host's own route guarded by app.authenticate (%s)", (_name, build) => {
  let h: Host;
  beforeAll(async () => {
    h = await host(build);
  });
  afterAll(() => h.close());

  it('answers 200 with request.user set to the verified access claims', async () => {
    const { accessToken, user } = await signUp(h.app);
    const res = await h.app.inject({ method: 'GET', url: '/orders', headers: bearer(accessToken) });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ owner: user.id });
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it.each([
    ['no credential', {}, 'token_missing', 'Bearer'],
    ['a malformed token', bearer('not.a.token'), 'token_invalid', 'Bearer error="invalid_token"'],
    ['another scheme', { authorization: 'Basic dXNlcjpwYXNz' }, 'token_invalid', 'Bearer error="invalid_token"'],
  ])('answers 401 problem+json to %s, with WWW-Authenticate', async (_case, headers, code, challenge) => {
    const res = await h.app.inject({ method: 'GET', url: '/orders', headers });
    expect(res.statusCode).toBe(401);
    expect(problem(res).code).toBe(code);
    expect(res.headers['www-authenticate']).toBe(challenge);
  });

  it('answers 401 token_expired once the injected clock passes exp', async () => {
    const { accessToken } = await signUp(h.app);
    h.clock.advance(h.config.jwt.accessTtl + 31);
    const res = await h.app.inject({ method: 'GET', url: '/orders', headers: bearer(accessToken) });
    expect(problem(res).code).toBe('token_expired');
  });

  it('refuses the refresh token with token_revoked after logout-all, and the access token on the host\'s route soon after', async () => {
    const { accessToken, refreshToken } = await signUp(h.app);
    const out = await h.app.inject({ method: 'POST', url: '/auth/logout-all', headers: bearer(accessToken) });
    expect(out.statusCode).toBe(200);
    const refreshed = await h.app.inject({ method: 'POST', url: '/auth/refresh', payload: { refreshToken } });
    expect(refreshed.statusCode).toBe(401);
    expect(problem(refreshed).code).toBe('token_revoked');
    // ACCESS_TOKEN_REVOCATION=instant: the feed reaches app.authenticate within moments (polled, 5 s at most).
    const deadline = performance.now() + 5000;
    let res = await h.app.inject({ method: 'GET', url: '/orders', headers: bearer(accessToken) });
    while (res.statusCode === 200 && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
      res = await h.app.inject({ method: 'GET', url: '/orders', headers: bearer(accessToken) });
    }
    expect(res.statusCode).toBe(401);
    expect(problem(res).code).toBe('token_revoked');
  });
});

describe('encapsulation: what governs our routes does not reach the host', () => {
  let h: Host;
  beforeAll(async () => {
    h = await host((config) => Fastify(serverOptions(config)));
  });
  afterAll(() => h.close());

  it("leaves the host's body parsers alone (ours takes JSON only)", async () => {
    const res = await h.app.inject({ method: 'POST', url: '/echo', headers: { 'content-type': 'text/plain' }, payload: 'hello' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ body: 'hello' });
    const ours = await h.app.inject({ method: 'POST', url: '/auth/login', headers: { 'content-type': 'text/plain' }, payload: 'hello' });
    expect(ours.statusCode).toBe(415);
    expect(problem(ours).code).toBe('unsupported_media_type');
  });

  it('sets our security headers on our answers only', async () => {
    const ours = await h.app.inject({ method: 'GET', url: '/health' });
    expect(ours.headers['x-frame-options']).toBe('DENY');
    const theirs = await h.app.inject({ method: 'POST', url: '/echo', payload: {} });
    expect(theirs.headers['x-frame-options']).toBeUndefined();
  });

  it("leaves the host's errors and 404s to the host", async () => {
    const missing = await h.app.inject({ method: 'GET', url: '/nowhere' });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).not.toContain('problem+json');
  });

  it('gives the host nothing but authenticate and request.user', () => {
    expect(typeof h.app.authenticate).toBe('function');
    expect(h.app.hasRequestDecorator('user')).toBe(true);
    for (const name of ['authService', 'authTokens', 'authDatabase', 'authHttp', 'jwt']) expect(h.app.hasDecorator(name), name).toBe(false);
  });
});

describe("a host at the root with its own @fastify/cors (CORS_ORIGINS empty)", () => {
  const HOST_ORIGIN = 'https://shop.example';
  let h: Host;
  beforeAll(async () => {
    h = await host((config) => Fastify(serverOptions(config)), {}, { after: (app) => void app.register(fastifyCors, { origin: HOST_ORIGIN }) });
  });
  afterAll(() => h.close());

  it("starts, and the host's preflights on its own routes are the host's", async () => {
    const headers = { origin: HOST_ORIGIN, 'access-control-request-method': 'POST' };
    const theirs = await h.app.inject({ method: 'OPTIONS', url: '/echo', headers });
    expect(theirs.statusCode).toBe(204);
    expect(theirs.headers['access-control-allow-origin']).toBe(HOST_ORIGIN);
  });
});

describe('the prefix option', () => {
  let h: Host;
  beforeAll(async () => {
    h = await host((config) => Fastify(serverOptions(config)), { prefix: '/api' }, {}, { cookieSecure: false });
  });
  afterAll(() => h.close());

  it('moves every route of ours under it, and the refresh cookie Path with them', async () => {
    expect((await h.app.inject({ method: 'POST', url: '/auth/register', payload: {} })).statusCode).toBe(404);
    const res = await h.app.inject({
      method: 'POST',
      url: '/api/auth/register',
      headers: { 'x-token-transport': 'cookie' },
      payload: { email: uniqueEmail('prefixed'), password: PASSWORD },
    });
    expect(res.statusCode).toBe(201);
    expect(String(res.headers['set-cookie'])).toContain('Path=/api/auth');
    const me = await h.app.inject({ method: 'GET', url: '/api/me', headers: bearer(res.json().accessToken) });
    expect(me.statusCode).toBe(200);
  });

  it('answers unknown routes under the prefix as problem+json 404', async () => {
    const res = await h.app.inject({ method: 'GET', url: '/api/nowhere' });
    expect(res.statusCode).toBe(404);
    expect(problem(res).code).toBe('not_found');
  });

  it('refuses a prefix that is not a path', async () => {
    const app = Fastify();
    await expect(app.register(versionedAuth, { config: testConfig(), prefix: 'api/' }).ready()).rejects.toThrow(/prefix/);
    await app.close();
  });
});

describe('a host that already has its own @fastify/jwt and `user`', () => {
  const HOST_SECRET = 'the-host-own-secret-0123456789abcdef-0123';
  let h: Host;
  beforeAll(async () => {
    h = await host(
      (config) => Fastify(serverOptions(config)),
      { decorators: { authenticate: 'requireUser', user: 'account' } },
      {
        before: (app) => void app.register(fastifyJwt, { secret: HOST_SECRET }),
        after: (app) => {
          const guard = (app as unknown as Record<string, FastifyInstance['authenticate']>).requireUser!;
          app.get('/mine', { onRequest: guard }, async (request) => ({ id: (request as unknown as { account: { sub: string } }).account.sub }));
        },
      },
    );
  });
  afterAll(() => h.close());

  it('registers beside it under the names it is given, and both verifiers keep their own keys', async () => {
    const { accessToken, user } = await signUp(h.app);
    // The host's own token is not ours, and ours is not the host's.
    const hostToken = h.app.jwt.sign({ sub: 'host-user' });
    expect(h.app.jwt.verify<{ sub: string }>(hostToken).sub).toBe('host-user');
    expect(() => h.app.jwt.verify(accessToken)).toThrow();
    expect((await h.app.inject({ method: 'GET', url: '/mine', headers: bearer(accessToken) })).json()).toEqual({ id: user.id });
    expect(problem(await h.app.inject({ method: 'GET', url: '/mine', headers: bearer(hostToken) })).code).toBe('token_invalid');
    expect(decodeJwt(accessToken).header.typ).toBe('at+jwt');
  });
});

describe('registration fails fast on bad options', () => {
  it('without config', async () => {
    const app = Fastify();
    await expect(app.register(versionedAuth, {} as never).ready()).rejects.toThrow(/config/);
    await app.close();
  });

  it('without signing keys, naming the variable and the way out', async () => {
    const app = Fastify();
    const config = testConfig({ jwt: { ...testConfig().jwt, accessSecrets: [] } });
    await expect(app.register(versionedAuth, { config }).ready()).rejects.toThrow(/JWT_ACCESS_SECRET.*useDevelopmentKeys/);
    await app.close();
  });
});

describe('the production warnings', () => {
  it('are exported for a host to log, one line per unwise setting', () => {
    const config = { production: true, cookieSecure: false, corsOrigins: [] as string[], refreshReuseGrace: 10, trustProxy: false as const, database: { kind: 'postgres' as const, url: 'postgres://db/app' } };
    const warnings = productionWarnings(config);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('COOKIE_SECURE');
    expect(productionWarnings({ ...config, cookieSecure: true })).toEqual([]);
  });
});
