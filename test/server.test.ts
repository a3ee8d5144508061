import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { niceByThread } from '../src/runtime/threads.js';
import { ACCESS_SECRET, createTestDatabase, REFRESH_SECRET, seedDataDir, TEST_DATABASE_URL } from './helper.js';
import { spawnLogged } from './support/logged-process.js';

const root = new URL('..', import.meta.url);
const dataDir = mkdtempSync(join(tmpdir(), 'versioned-auth-server-'));
let drop = async () => {};
/** Every server process a test started, killed at the end whatever happened to it. */
const children: ChildProcess[] = [];
afterAll(async () => {
  for (const child of children) child.kill('SIGKILL');
  await drop();
  rmSync(dataDir, { recursive: true, force: true });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Starts src/server.ts as the real process; resolves once it listens. Collects its log lines. */
async function startServer(env: Record<string, string>) {
  if (env.DATA_DIR && !env.DATABASE_URL) await seedDataDir(env.DATA_DIR);
  // As npm start runs dist/server.js: with the preload that lowers the thread pool's priority.
  const { proc, lines, stderr, exited } = spawnLogged(process.execPath, ['--require', './src/runtime/pool-priority.cjs', '--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
  });
  children.push(proc);
  // Generous: a server start is slow on a busy two-core machine.
  await waitFor(() => lines.some((line) => line.includes('versioned-auth ready')), 110_000, stderr);
  return { proc, lines, exited, stderr };
}

/** The built server (`npm run build` first; `npm test` does), started as `npm start` starts it. */
function spawnBuilt(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--require', './dist/runtime/pool-priority.cjs', 'dist/server.js'], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/**
 * Starts the built server where it must refuse to start; resolves when it exits, or when it
 * says it is ready instead (then it is killed, and `started` is true).
 */
async function startRefused(env: Record<string, string>) {
  const proc = spawnBuilt(env);
  children.push(proc);
  let stdout = '';
  let stderr = '';
  let started = false;
  proc.stdout!.on('data', (chunk) => {
    stdout += chunk;
    if (!started && stdout.includes('versioned-auth ready')) {
      started = true;
      proc.kill('SIGKILL');
    }
  });
  proc.stderr!.on('data', (chunk) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
  return { code, started, stdout, stderr };
}

/** Whether something accepts TCP connections at host:port. */
function reachable(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitFor(condition: () => boolean, ms: number, why: () => string = () => '') {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${why()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the server process', () => {
  it('on SIGTERM finishes the requests in flight, closes the database and exits 0', async () => {
    const port = await freePort();
    const env: Record<string, string> = {
      PORT: String(port),
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      JWT_ACCESS_SECRET: ACCESS_SECRET,
      JWT_REFRESH_SECRET: REFRESH_SECRET,
    };
    if (TEST_DATABASE_URL) {
      const testDb = await createTestDatabase();
      drop = testDb.drop;
      env.DATABASE_URL = (testDb.config as { url: string }).url;
    }
    const server = await startServer(env);
    const base = `http://127.0.0.1:${port}`;
    // Outside production, the demo SPA (examples/spa) is served too.
    expect((await fetch(`${base}/demo/`)).status).toBe(200);

    // Registrations each spend argon2 time on the server: a real window to stop in.
    const inFlight = Array.from({ length: 6 }, (_, i) =>
      fetch(`${base}/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: `shutdown-${i}-${process.pid}@example.com`, password: 'correct horse battery' }),
      }).then(async (res) => ({ status: res.status, body: await res.json() })),
    );
    await waitFor(() => server.lines.filter((l) => l.includes('"url":"/auth/register"')).length === 6, 10_000);
    server.proc.kill('SIGTERM');

    const results = await Promise.all(inFlight);
    expect(results.map((r) => r.status)).toEqual(Array(6).fill(201));
    expect(await server.exited).toBe(0);
    expect(server.lines.some((l) => l.includes('shutting down'))).toBe(true);
    // fast-jwt's warning about a custom cache key says nothing true of ours (the whole token).
    expect(server.stderr()).not.toContain('cacheKeyBuilder');
    // Stopped accepting: nothing listens any more.
    await expect(fetch(`${base}/health`)).rejects.toThrow();
  }, 120_000);

  it.runIf(process.platform === 'linux')(
    'runs libuv\'s pool, where argon2 hashes, at nice 19 and the event loop at nice 0',
    async () => {
      const port = await freePort();
      // A pool size of 3 tells the pool's threads apart from V8's own four.
      const server = await startServer({ PORT: String(port), DATA_DIR: join(dataDir, 'nice'), LOG_LEVEL: 'info', UV_THREADPOOL_SIZE: '3' });
      const pid = server.proc.pid!;
      const byThread = niceByThread(pid)!;
      const nice = [...byThread.values()];
      expect(byThread.get(String(pid))).toBe(0);
      expect(nice.filter((n) => n === 19)).toHaveLength(3);
      expect(nice.every((n) => n === 0 || n === 19)).toBe(true);
      expect(server.lines.some((l) => l.includes('"lowPriorityThreads":3'))).toBe(true);
      // No keys in the environment: development keys, generated on this first start.
      expect(server.lines.some((l) => l.includes('generated development keys into'))).toBe(true);
      // argon2 on the lowered pool still answers.
      const res = await fetch(`http://127.0.0.1:${port}/auth/register`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email: `nice-${process.pid}@example.com`, password: 'correct horse battery' }),
      });
      expect(res.status).toBe(201);
      server.proc.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    },
    120_000,
  );

  it('past MAX_CONNECTIONS closes new connections at once, and takes them again once one closes', async () => {
    const port = await freePort();
    const server = await startServer({ PORT: String(port), DATA_DIR: join(dataDir, 'cap'), LOG_LEVEL: 'info', MAX_CONNECTIONS: '2' });
    /** A connection that sent GET /health: resolves with it once the answer (or the close) arrives. */
    const healthOn = () =>
      new Promise<{ socket: Socket; answer: string }>((resolve) => {
        const socket = connect(port, '127.0.0.1', () => socket.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n'));
        let answer = '';
        socket.on('error', () => {});
        socket.on('data', (chunk) => {
          answer += chunk;
          if (answer.includes('\r\n\r\n')) resolve({ socket, answer });
        });
        socket.on('close', () => resolve({ socket, answer }));
      });
    const held = [await healthOn(), await healthOn()];
    for (const { answer } of held) expect(answer).toMatch(/^HTTP\/1\.1 200/);

    const refused = await healthOn();
    expect(refused.answer).toBe('');
    expect(refused.socket.destroyed).toBe(true);

    held[0]!.socket.destroy();
    // Node counts the closed connection a moment later; from then on it takes a new one.
    let again = await healthOn();
    const deadline = Date.now() + 10_000;
    while (again.answer === '' && Date.now() < deadline) again = await healthOn();
    expect(again.answer).toMatch(/^HTTP\/1\.1 200/);
    again.socket.destroy();
    held[1]!.socket.destroy();
    server.proc.kill('SIGTERM');
    expect(await server.exited).toBe(0);
  }, 120_000);

  it('refuses to start on a bad value, with one line naming the variable', async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, DATA_DIR: dataDir, ACCESS_TOKEN_TTL: '15x' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    proc.stderr!.on('data', (chunk) => (stderr += chunk));
    const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
    expect(code).toBe(1);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toContain('ACCESS_TOKEN_TTL');
  });

  describe('refuses to start with one line naming the variable, no stack trace, exit 1', () => {
    // Never printed: the password of DATABASE_URL.
    const password = `pw-${randomBytes(6).toString('hex')}`;
    const postgres = new URL(TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test');
    const postgresAt = `${postgres.hostname}:${postgres.port || 5432}`;
    const postgresUp = reachable(postgres.hostname, Number(postgres.port || 5432));
    /** A URL on the test PostgreSQL server with our password, for `database`. */
    const postgresUrl = (database: string) => {
      const url = new URL(postgres);
      url.password = password;
      url.pathname = `/${database}`;
      return url.href;
    };

    /** Starts the built server and asserts the refusal's contract; returns its stderr line. */
    async function expectRefusedStart(env: Record<string, string>, variable: string): Promise<string> {
      const result = await startRefused({ DATA_DIR: join(dataDir, `refused-${randomBytes(4).toString('hex')}`), LOG_LEVEL: 'info', ...env });
      expect(result.started, 'the server started').toBe(false);
      expect(result.code).toBe(1);
      const lines = result.stderr.trim().split('\n');
      expect(lines, result.stderr).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^versioned-auth: cannot start: ${variable}: `));
      for (const output of [result.stdout, result.stderr]) {
        expect(output).not.toContain('    at ');
        expect(output).not.toContain('"stack"');
        expect(output).not.toContain(password);
      }
      return lines[0]!;
    }

    it('DATABASE_URL: a refused connection', async () => {
      const closed = await freePort();
      const line = await expectRefusedStart({ PORT: String(await freePort()), DATABASE_URL: `postgres://postgres:${password}@127.0.0.1:${closed}/versioned_auth` }, 'DATABASE_URL');
      expect(line).toContain(`127.0.0.1:${closed}`);
    }, 60_000);

    it('DATABASE_URL: a database that does not exist', async (ctx) => {
      if (!(await postgresUp)) {
        ctx.skip(`needs PostgreSQL, which CI always has: nothing answers at ${postgresAt} (set TEST_DATABASE_URL to point at one)`);
      }
      const database = `va_missing_${randomBytes(6).toString('hex')}`;
      const line = await expectRefusedStart({ PORT: String(await freePort()), DATABASE_URL: postgresUrl(database) }, 'DATABASE_URL');
      expect(line).toContain(`database "${database}" does not exist`);
    }, 60_000);

    it('PORT: a port in use', async () => {
      const busy = createServer();
      const port = await new Promise<number>((resolve) => busy.listen(0, '127.0.0.1', () => resolve((busy.address() as AddressInfo).port)));
      try {
        const line = await expectRefusedStart({ HOST: '127.0.0.1', PORT: String(port) }, 'PORT');
        expect(line).toContain(`127.0.0.1:${port} is already in use`);
      } finally {
        busy.close();
      }
    }, 90_000);

    it('DATA_DIR: development keys that cannot be written there', async () => {
      const notADirectory = join(dataDir, `a-file-${randomBytes(4).toString('hex')}`);
      writeFileSync(notADirectory, '');
      const line = await expectRefusedStart({ PORT: String(await freePort()), DATA_DIR: join(notADirectory, 'data') }, 'DATA_DIR');
      expect(line).toContain('ENOTDIR');
    }, 60_000);

    it('DATA_DIR: another server on the same DATA_DIR (which starts once the first has stopped)', async () => {
      const shared = join(dataDir, 'shared');
      const first = await startServer({ PORT: String(await freePort()), DATA_DIR: shared, LOG_LEVEL: 'info' });
      try {
        const line = await expectRefusedStart({ PORT: String(await freePort()), DATA_DIR: shared }, 'DATA_DIR');
        expect(line).toContain(`pid ${first.proc.pid}`);
      } finally {
        first.proc.kill('SIGTERM');
        expect(await first.exited).toBe(0);
      }
      // Once the first has stopped, a new server starts on the same DATA_DIR; in production,
      // it logs the production warnings at warn, here the one about the embedded database.
      const nextPort = await freePort();
      const next = await startServer({
        PORT: String(nextPort),
        DATA_DIR: shared,
        LOG_LEVEL: 'info',
        NODE_ENV: 'production',
        JWT_ACCESS_SECRET: randomBytes(32).toString('hex'),
        JWT_REFRESH_SECRET: randomBytes(32).toString('base64'),
      });
      const warnings = next.lines.filter((line) => line.startsWith('{"level":40'));
      expect(warnings.filter((line) => line.includes('DATABASE_URL is not set: running on the embedded database'))).toHaveLength(1);
      // No demo page in production.
      expect((await fetch(`http://127.0.0.1:${nextPort}/demo/`)).status).toBe(404);
      next.proc.kill('SIGTERM');
      expect(await next.exited).toBe(0);
    }, 240_000);
  });
});
