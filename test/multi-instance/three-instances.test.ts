import { randomBytes, randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOGIN_LIMITS } from '../../src/auth/login-throttle.js';
import { hashKey } from '../../src/rate-limit/counters.js';
import { rateLimitKey } from '../../src/rate-limit/address-key.js';
import { runDirectory, TEST_DATABASE_URL, TEST_REDIS_URL } from '../helper.js';
import { createTemporaryDatabase } from '../support/temporary-database.js';
import { call, eventually, killAll, startServer, type Answer, type ServerProcess } from './processes.js';

const skipped = !TEST_DATABASE_URL ? 'needs TEST_DATABASE_URL' : !TEST_REDIS_URL ? 'needs TEST_REDIS_URL' : undefined;
const PASSWORD = 'correct horse battery';

/**
 * Three real server processes on one PostgreSQL database and one Redis, seen through HTTP
 * only, as behind a load balancer. PostgreSQL only: the embedded database is one process.
 */
describe.skipIf(skipped)(`three server processes on one PostgreSQL and one Redis${skipped ? ` (skipped: ${skipped})` : ''}`, () => {
  const dataDir = runDirectory('instances');
  let drop = async () => {};
  let a: ServerProcess, b: ServerProcess, c: ServerProcess;
  // Every client comes from an address of this run's own /48 (through TRUST_PROXY), so the
  // address limit meets no other run's counters; the Redis prefix is not configurable, so
  // the keys this run made are found by these addresses and emails, and deleted.
  const net = `fd${randomBytes(1).toString('hex')}:${randomBytes(2).toString('hex')}:${randomBytes(2).toString('hex')}`;
  let nextHost = 0;
  const addresses: string[] = [];
  const emails: string[] = [];
  /** An address in a /64 no request has used yet (the limits key IPv6 clients by /64). */
  const freshAddress = () => {
    const address = `${net}:${(++nextHost).toString(16)}::1`;
    addresses.push(address);
    return address;
  };
  const freshEmail = () => {
    const email = `instances-${randomUUID()}@example.com`;
    emails.push(email);
    return email;
  };
  /** A request from `from` (a fresh address unless given). */
  const send = (server: ServerProcess, method: string, path: string, options: { body?: unknown; token?: string; from?: string } = {}) =>
    call(server.port, method, path, { ...options, headers: { 'x-forwarded-for': options.from ?? freshAddress() } });
  const code = (answer: Answer) => answer.body.code;

  beforeAll(async () => {
    const database = await createTemporaryDatabase(TEST_DATABASE_URL!, 'instances');
    drop = database.drop;
    const env = (name: string) => ({
      DATABASE_URL: database.url,
      REDIS_URL: TEST_REDIS_URL!,
      RATE_LIMIT: 'on',
      TRUST_PROXY: 'loopback',
      DATA_DIR: join(dataDir, name),
    });
    // One after the other: three first starts at once race to migrate (safe, but slower here).
    a = await startServer(env('a'));
    [b, c] = await Promise.all([startServer(env('b')), startServer(env('c'))]);
  }, 180_000);

  afterAll(async () => {
    killAll();
    await drop();
    rmSync(dataDir, { recursive: true, force: true });
    if (TEST_REDIS_URL) await deleteRunKeys();
  });

  async function deleteRunKeys() {
    const marks = [...addresses.map(rateLimitKey), ...emails.map(hashKey)];
    const redis = new Redis(TEST_REDIS_URL!);
    try {
      const ours: string[] = [];
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', 'versioned-auth:*', 'COUNT', 1000);
        cursor = next;
        ours.push(...keys.filter((key) => marks.some((mark) => key.includes(mark))));
      } while (cursor !== '0');
      if (ours.length > 0) await redis.del(...ours);
    } finally {
      redis.disconnect();
    }
  }

  it('register on A, log in on B, refresh on C; logout-all on A: refresh refused on B and C at once, access tokens within a second', async () => {
    const email = freshEmail();
    const registered = await send(a, 'POST', '/auth/register', { body: { email, password: PASSWORD } });
    expect(registered.status).toBe(201);
    const loggedIn = await send(b, 'POST', '/auth/login', { body: { email, password: PASSWORD } });
    expect(loggedIn.status).toBe(200);
    const refreshed = await send(c, 'POST', '/auth/refresh', { body: { refreshToken: loggedIn.body.refreshToken } });
    expect(refreshed.status).toBe(200);
    const access = refreshed.body.accessToken as string;
    for (const server of [a, b, c]) expect((await send(server, 'GET', '/me', { token: access })).status).toBe(200);

    const logoutAll = await send(a, 'POST', '/auth/logout-all', { token: registered.body.accessToken as string });
    expect(logoutAll.status).toBe(200);

    // The very next request: each instance reads the user's version from the shared database.
    const onB = await send(b, 'POST', '/auth/refresh', { body: { refreshToken: refreshed.body.refreshToken } });
    const onC = await send(c, 'POST', '/auth/refresh', { body: { refreshToken: registered.body.refreshToken } });
    expect([onB.status, code(onB)]).toEqual([401, 'token_revoked']);
    expect([onC.status, code(onC)]).toEqual([401, 'token_revoked']);

    // Access tokens follow through each instance's revocation feed (NOTIFY/LISTEN).
    for (const server of [b, c]) {
      for (const token of [access, loggedIn.body.accessToken as string]) {
        await eventually(async () => (await send(server, 'GET', '/me', { token })).status === 401, `refused on port ${server.port}`);
        expect(code(await send(server, 'GET', '/me', { token }))).toBe('token_revoked');
      }
    }
  });

  it('the per-account limit is shared: failures spread over the three instances trip it at the same count as on one', async () => {
    const email = freshEmail();
    expect((await send(a, 'POST', '/auth/register', { body: { email, password: PASSWORD } })).status).toBe(201);
    const servers = [a, b, c];
    const wrong = (i: number) => send(servers[i % 3]!, 'POST', '/auth/login', { body: { email, password: 'wrong password' } });

    // Each failure from a new address, so the per-address limit never applies; two at a time per instance.
    const { max } = LOGIN_LIMITS.perAccount;
    for (let start = 0; start < max; start += 6) {
      const batch = await Promise.all(Array.from({ length: Math.min(6, max - start) }, (_, k) => wrong(start + k)));
      for (const answer of batch) expect([answer.status, code(answer)]).toEqual([401, 'invalid_credentials']);
    }
    // Past the cap on every instance, though each saw only a third of the failures itself.
    for (let i = max; i < max + 3; i++) {
      const answer = await wrong(i);
      expect([answer.status, code(answer)]).toEqual([429, 'rate_limited']);
    }
  }, 120_000);

  it('so is the per-address limit on one account', async () => {
    const email = freshEmail();
    expect((await send(a, 'POST', '/auth/register', { body: { email, password: PASSWORD } })).status).toBe(201);
    const from = freshAddress();
    const { max } = LOGIN_LIMITS.perAddress;
    const servers = [a, b, c];
    for (let i = 0; i < max; i++) {
      const answer = await send(servers[i % 3]!, 'POST', '/auth/login', { body: { email, password: 'wrong password' }, from });
      expect([answer.status, code(answer)]).toEqual([401, 'invalid_credentials']);
    }
    for (const server of servers) {
      const answer = await send(server, 'POST', '/auth/login', { body: { email, password: 'wrong password' }, from });
      expect([answer.status, code(answer)]).toEqual([429, 'rate_limited']);
    }
  }, 60_000);
});
