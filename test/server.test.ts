import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { niceByThread } from '../src/runtime/threads.js';
import { ACCESS_SECRET, createTestDatabase, REFRESH_SECRET, TEST_DATABASE_URL } from './helper.js';

const root = new URL('..', import.meta.url);
const dataDir = mkdtempSync(join(tmpdir(), 'versioned-auth-server-'));
let drop = async () => {};
let child: ChildProcess | undefined;
afterAll(async () => {
  child?.kill('SIGKILL');
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
  const lines: string[] = [];
  // As npm start runs dist/server.js: with the preload that lowers the thread pool's priority.
  const proc = spawn(process.execPath, ['--require', './src/runtime/pool-priority.cjs', '--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = proc;
  let buffer = '';
  proc.stdout!.on('data', (chunk) => {
    buffer += chunk;
    const parts = buffer.split('\n');
    buffer = parts.pop()!;
    lines.push(...parts);
  });
  let stderr = '';
  proc.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  await waitFor(() => lines.some((line) => line.includes('versioned-auth ready')), 20_000, () => stderr);
  return { proc, lines, exited, stderr: () => stderr };
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
  }, 60_000);

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
    60_000,
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
  }, 60_000);

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
});
