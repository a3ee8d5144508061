import { connect, type AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../src/db/client.js';
import versionedAuth, { notFoundProblem, serverOptions } from '../src/index.js';
import { buildApp, createTestDatabase, testConfig } from './helper.js';

/**
 * Writes `request` on a fresh connection to `port` and resolves with everything the server
 * sent once it closes the connection, or `undefined` if it is still open after `boundMs`
 * (a bound far above the configured timeout: the test is about closing, not its timing).
 */
function sendAndWaitForClose(port: number, request: string, boundMs = 15_000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(request));
    let received = '';
    const bound = setTimeout(() => {
      socket.destroy();
      resolve(undefined);
    }, boundMs);
    socket.on('data', (chunk) => (received += chunk));
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(bound);
      resolve(received);
    });
  });
}

/** The status line, headers (lower-cased names) and JSON body of one raw HTTP/1.1 answer. */
function parseAnswer(raw: string) {
  const [head = '', body = ''] = raw.split('\r\n\r\n');
  const [statusLine = '', ...headerLines] = head.split('\r\n');
  const headers = Object.fromEntries(
    headerLines.map((line) => [line.slice(0, line.indexOf(':')).toLowerCase(), line.slice(line.indexOf(':') + 1).trim()]),
  );
  return { status: Number(statusLine.split(' ')[1]), headers, body: body === '' ? undefined : JSON.parse(body) };
}

/** Polls `condition` until it holds or `boundMs` passes; returns whether it held. */
async function eventually(condition: () => boolean, boundMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + boundMs;
  while (!condition() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  return condition();
}

describe('REQUEST_TIMEOUT', () => {
  let app: FastifyInstance;
  let port: number;
  let drop = async () => {};
  const logLines: { level: number; msg: string; req?: { url: string } }[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      logLines.push(JSON.parse(String(chunk)));
      done();
    },
  });
  beforeAll(async () => {
    const testDb = await createTestDatabase();
    drop = testDb.drop;
    // One second, so a stalled request is cut off quickly; the bound below is 15 s.
    const config = testConfig({ database: testDb.config, httpServer: { requestTimeout: 1, keepAliveTimeout: 72, maxConnections: 1000 } });
    app = await buildApp(config, { logger: { level: 'info', stream: sink } });
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await app.close();
    await drop();
  });

  it.each([
    ['a body that stops after its first byte', 'POST /auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{'],
    ['headers that never end', 'GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: '],
    ['a connection that sends nothing', ''],
  ])('answers %s with 408 request_timeout in problem+json, and closes', async (_name, request) => {
    const raw = await sendAndWaitForClose(port, request);
    expect(raw, 'the connection is still open').toBeDefined();
    const answer = parseAnswer(raw!);
    expect(answer.status).toBe(408);
    expect(answer.headers['content-type']).toBe('application/problem+json');
    expect(answer.headers.connection).toBe('close');
    expect(answer.body).toMatchObject({ status: 408, code: 'request_timeout' });
  }, 30_000);

  it('logs a body cut off by the timeout at info, not as a database failure', async () => {
    logLines.length = 0;
    await sendAndWaitForClose(port, 'POST /auth/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{');
    expect(await eventually(() => logLines.some((line) => line.msg === 'the client went away before its body arrived'))).toBe(true);
    expect(logLines.filter((line) => line.level >= 40)).toEqual([]);
  }, 30_000);

  it('still answers a complete request on the same server', async () => {
    const raw = await sendAndWaitForClose(port, 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(parseAnswer(raw!).status).toBe(200);
  });
});

describe('requests that arrive while the server closes', () => {
  let drop = async () => {};
  let database: Database;
  beforeAll(async () => {
    const testDb = await createTestDatabase();
    drop = testDb.drop;
    database = await openDatabase(testDb.config);
  });
  afterAll(async () => {
    await database.close();
    await drop();
  });

  it('get 503 service_unavailable in problem+json with Retry-After and Connection: close, on our routes, the host\'s and 404s', async () => {
    let release = () => {};
    let closeStarted = () => {};
    const started = new Promise<void>((resolve) => (closeStarted = resolve));
    const app = await buildAppWithHostRoute(database, (host) => {
      // A preClose hook of the host's that takes its time holds the close open, as requests
      // in flight do: the server still listens, and Fastify is closing.
      host.addHook('preClose', async () => {
        closeStarted();
        await new Promise<void>((resolve) => (release = resolve));
      });
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const closed = app.close();
    try {
      await started;
      for (const url of ['/health', '/me', '/host/hello', '/no/such/path']) {
        const raw = await sendAndWaitForClose(port, `GET ${url} HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n`);
        const answer = parseAnswer(raw!);
        expect(answer.status, url).toBe(503);
        expect(answer.headers['content-type'], url).toBe('application/problem+json; charset=utf-8');
        expect(answer.headers.connection, url).toBe('close');
        expect(Number(answer.headers['retry-after']), url).toBeGreaterThan(0);
        expect(answer.headers['x-content-type-options'], url).toBe('nosniff');
        expect(answer.body, url).toMatchObject({ status: 503, code: 'service_unavailable' });
      }
    } finally {
      release();
      await closed;
    }
  });

  it('before closing, the host\'s route answers as usual', async () => {
    const app = await buildAppWithHostRoute(database);
    try {
      const res = await app.inject({ method: 'GET', url: '/host/hello' });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ hello: 'host' });
    } finally {
      await app.close();
    }
  });
});

/** The service as src/server.ts builds it, plus a route of the host's own registered after the plugin. */
async function buildAppWithHostRoute(database: Database, beforeReady: (app: FastifyInstance) => void = () => {}): Promise<FastifyInstance> {
  const config = testConfig();
  const app = Fastify(serverOptions(config));
  await app.register(versionedAuth, { config, database });
  app.get('/host/hello', async () => ({ hello: 'host' }));
  app.setNotFoundHandler(notFoundProblem);
  beforeReady(app);
  await app.ready();
  return app;
}
