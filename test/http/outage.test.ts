import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { bearer, PASSWORD, problem, testConfig, buildApp, createTestTokens, logCapture } from '../helper.js';

// A PostgreSQL URL where nothing listens: every query fails to connect, as in an outage.
const config = testConfig({ database: { kind: 'postgres', url: 'postgres://postgres@127.0.0.1:1/unreachable' } });
let app: FastifyInstance;
let database: Database;
const { lines: logLines, stream: sink } = logCapture();

beforeAll(async () => {
  const real = await openDatabase(config.database);
  // Skip migrations: the point is a database that went away after start.
  database = { ...real, migrate: async () => {} };
  app = await buildApp(config, { database, logger: { level: 'warn', stream: sink } });
});
afterAll(async () => {
  await app.close();
  await database.close();
});

describe('while the database is unreachable', () => {
  it('still answers GET /me from the token alone', async () => {
    const access = (await createTestTokens(config)).issueAccess({
      userId: randomUUID(),
      sessionId: randomUUID(),
      refreshTokenVersion: 0,
      email: 'a@example.com',
    });
    const res = await app.inject({ method: 'GET', url: '/me', headers: bearer(access) });
    expect(res.statusCode).toBe(200);
  });

  it.each([
    ['register', '/auth/register', { email: 'a@example.com', password: PASSWORD }],
    ['login', '/auth/login', { email: 'a@example.com', password: PASSWORD }],
  ])('answers %s with 503 service_unavailable and Retry-After, revealing nothing', async (_name, url, payload) => {
    const res = await app.inject({ method: 'POST', url, payload });
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBe('5');
    expect(problem(res)).toEqual({
      type: 'about:blank',
      status: 503,
      title: 'The service is temporarily unavailable',
      code: 'service_unavailable',
    });
  });

  it('reports not ready with 503, while /health stays 200', async () => {
    expect((await app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(503);
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
  });
});

describe('logging an outage', () => {
  it('logs the failure without the query parameters (email, password hash) a failed query carries', async () => {
    logLines.length = 0;
    const email = `outage-${randomUUID()}@example.com`;
    await app.inject({ method: 'POST', url: '/auth/login', payload: { email, password: PASSWORD } });
    const log = logLines.join('');
    expect(log).toContain('database unavailable');
    expect(log).not.toContain(email);
    expect(log).not.toContain(PASSWORD);
    // ...but with what went wrong: the error's type and message, not "[object Object]".
    const entry = logLines.map((line) => JSON.parse(line)).find((line) => line.msg === 'database unavailable');
    expect(entry.err.type).not.toBe('object');
    expect(entry.err.message).not.toContain('[object Object]');
    expect(entry.err.message.length).toBeGreaterThan(0);
  });
});
