import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLOCK_SKEW_SECONDS } from '../../src/tokens/index.js';
import { buildApp, buildTestApp, decodeJwt, onPostgres, PASSWORD, uniqueEmail, type TestApp, type TokenBody } from '../helper.js';
import { accessJwtConfig, newAccessKey } from '../support/access-keys.js';
import { orders, resourceServer, sign, type TestKey } from './issuer.js';

/**
 * The issue's end-to-end test: the auth service (the main plugin, EdDSA, listening) and
 * another team's Fastify service using versioned-auth/verify with the service's JWKS URL.
 * All HTTP between them is real; one injected clock stands for both machines' time.
 */
const oldKey = newAccessKey('EdDSA');
const newKey = newAccessKey('EdDSA');
let t: TestApp;
/** The auth service's address, as a load balancer in front of whichever instances are deployed. */
let front: { url: string; server: Server };
let current: string;
const instances: FastifyInstance[] = [];
let resource: { app: FastifyInstance; logs: string[] };

/** Starts an instance of the auth service with `keys` on the shared database and clock, and points the front at it. */
async function deploy(keys: string[]): Promise<void> {
  const app = await buildApp({ ...t.config, jwt: accessJwtConfig('EdDSA', keys) }, { database: t.database });
  instances.push(app);
  current = await app.listen({ port: 0, host: '127.0.0.1' });
}

/** A request to the auth service over HTTP. */
async function service(method: string, path: string, options: { token?: string; body?: unknown } = {}) {
  const res = await fetch(`${front.url}${path}`, {
    method,
    headers: { ...(options.token ? { authorization: `Bearer ${options.token}` } : {}), ...(options.body ? { 'content-type': 'application/json' } : {}) },
    body: options.body ? JSON.stringify(options.body) : undefined,
  });
  return { status: res.status, headers: res.headers, body: (await res.text()) || undefined };
}

beforeAll(async () => {
  t = await buildTestApp({ jwt: accessJwtConfig('EdDSA', [oldKey.pem]) });
  instances.push(t.app);
  current = await t.app.listen({ port: 0, host: '127.0.0.1' });
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const upstream = await fetch(`${current}${req.url}`, {
      method: req.method,
      headers: Object.fromEntries(Object.entries(req.headers).filter(([name]) => !['host', 'connection'].includes(name))) as Record<string, string>,
      body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
    });
    const headers: Record<string, string> = {};
    upstream.headers.forEach((value, name) => {
      if (!['content-length', 'transfer-encoding', 'connection', 'keep-alive'].includes(name)) headers[name] = value;
    });
    res.writeHead(upstream.status, headers);
    res.end(Buffer.from(await upstream.arrayBuffer()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  front = { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
  resource = await resourceServer({
    jwksUrl: `${front.url}/.well-known/jwks.json`,
    issuer: t.config.jwt.issuer,
    audience: t.config.jwt.audience,
    clock: t.clock,
    // The feed needs the service's database URL: PostgreSQL only (PGlite is one process).
    ...(t.config.database.kind === 'postgres' ? { revocation: { databaseUrl: t.config.database.url } } : {}),
  });
});
afterAll(async () => {
  await resource?.app.close();
  front?.server.closeAllConnections();
  await new Promise((resolve) => front?.server.close(resolve));
  for (const app of instances.splice(0)) await app.close();
  await t?.close();
});

async function signUp(): Promise<TokenBody> {
  const res = await service('POST', '/auth/register', { body: { email: uniqueEmail('e2e'), password: PASSWORD } });
  expect(res.status, res.body).toBe(201);
  return JSON.parse(res.body!) as TokenBody;
}

/** What a client sees of a 401: the same from the service's GET /me and from the other service's guarded route. */
const refusal = (status: number, headers: { get(name: string): string | null } | Record<string, unknown>, body: string | undefined) => {
  const get = (name: string) => ('get' in headers && typeof headers.get === 'function' ? headers.get(name) : (headers as Record<string, unknown>)[name]) ?? null;
  return { status, type: get('content-type'), wwwAuthenticate: get('www-authenticate'), cacheControl: get('cache-control'), body: body && JSON.parse(body) };
};

async function sameRefusal(token: string | undefined, code: string) {
  const mine = await service('GET', '/me', { token });
  const theirs = await resource.app.inject({ method: 'GET', url: '/orders', headers: token === undefined ? {} : { authorization: `Bearer ${token}` } });
  const expected = refusal(mine.status, mine.headers, mine.body);
  expect(expected.body.code).toBe(code);
  expect(refusal(theirs.statusCode, theirs.headers, theirs.body)).toEqual(expected);
}

/** Polls until the other service refuses `token`; fails after a generous timeout (the 1 s target is `npm run bench`'s). */
async function refusedEventually(token: string) {
  const deadline = performance.now() + 5000;
  for (;;) {
    const res = await orders(resource.app, token);
    if (res.statusCode === 401) return res;
    expect(res.statusCode).toBe(200);
    if (performance.now() > deadline) throw new Error('still accepted after 5 s');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('versioned-auth/verify against the running auth service', () => {
  it("verifies the service's tokens there, with the claims GET /me reads", async () => {
    const user = await signUp();
    const res = await orders(resource.app, user.accessToken);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().user).toEqual(decodeJwt(user.accessToken).payload);
    expect(res.json().user.sub).toBe(user.user.id);
  });

  it('refuses what the service refuses, with the same answer', async () => {
    const user = await signUp();
    await sameRefusal(undefined, 'token_missing');
    await sameRefusal('not-a-token', 'token_invalid');
    await sameRefusal(user.refreshToken, 'token_invalid');
    const parts = user.accessToken.split('.');
    await sameRefusal(`${parts[0]}.${parts[1]}x.${parts[2]}`, 'token_invalid');
  });

  it.skipIf(!onPostgres)('refuses the access token there after logout-all on the service (the feed; PostgreSQL only, it needs a database URL)', async () => {
    const user = await signUp();
    expect((await orders(resource.app, user.accessToken)).statusCode).toBe(200);
    const res = await service('POST', '/auth/logout-all', { token: user.accessToken });
    expect(res.status, res.body).toBe(200);
    await refusedEventually(user.accessToken);
    await sameRefusal(user.accessToken, 'token_revoked');
  });

  it('follows a key rotation: new key published, then signing, then the old one removed', async () => {
    const user = await signUp();
    expect(decodeJwt(user.accessToken).header.kid).toBe(oldKey.kid);

    // Step 1: [old, new] deployed: the new key is published, the old one still signs.
    await deploy([oldKey.pem, newKey.pem]);
    t.clock.advance(300); // every cache of the old JWKS (max-age=300) has expired
    expect((await orders(resource.app, user.accessToken)).statusCode).toBe(200);

    // Step 2: [new, old]: the new key signs; both keys' tokens verify there.
    await deploy([newKey.pem, oldKey.pem]);
    const refreshed = await service('POST', '/auth/refresh', { body: { refreshToken: user.refreshToken } });
    const fresh = JSON.parse(refreshed.body!) as TokenBody;
    expect(decodeJwt(fresh.accessToken).header.kid).toBe(newKey.kid);
    expect((await orders(resource.app, fresh.accessToken)).statusCode).toBe(200);
    expect((await orders(resource.app, user.accessToken)).statusCode).toBe(200);

    // Step 3: after ACCESS_TOKEN_TTL, [new] alone; once the cache refreshes, the old key's tokens are refused there.
    t.clock.advance(t.config.jwt.accessTtl + CLOCK_SKEW_SECONDS);
    await deploy([newKey.pem]);
    const later = JSON.parse((await service('POST', '/auth/refresh', { body: { refreshToken: fresh.refreshToken } })).body!) as TokenBody;
    const forged = sign({ kid: oldKey.kid, alg: 'EdDSA', privatePem: oldKey.pem } as TestKey, decodeJwt(later.accessToken).payload);
    const deadline = performance.now() + 5000;
    while ((await orders(resource.app, forged)).statusCode === 200) {
      if (performance.now() > deadline) throw new Error('the removed key still verifies after 5 s');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    expect((await orders(resource.app, forged)).json().code).toBe('token_invalid');
    expect((await orders(resource.app, later.accessToken)).statusCode).toBe(200);
  });
});
