import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDirectory, TEST_DATABASE_URL } from '../helper.js';
import { createTemporaryDatabase } from '../support/temporary-database.js';
import { createServer, type Server } from 'node:net';
import { call, eventually, freePort, killAll, startRefused, startServer, workerPids, type Answer, type ServerProcess } from './processes.js';

/**
 * WORKERS=2: one port, two server processes. Each request goes out on a connection of its
 * own, so Node's cluster hands them to the workers in turn; which worker answered is read
 * from its request log (every line carries its pid), matched by a tag in the query string.
 * PostgreSQL only: WORKERS refuses the embedded database.
 */
describe.skipIf(!TEST_DATABASE_URL)('WORKERS=2', () => {
  const dataDir = runDirectory('workers');
  let drop = async () => {};
  let server: ServerProcess;
  let tag = 0;

  beforeAll(async () => {
    const database = await createTemporaryDatabase(TEST_DATABASE_URL!, 'workers');
    drop = database.drop;
    server = await startServer({ WORKERS: '2', DATABASE_URL: database.url, RATE_LIMIT: 'off', DATA_DIR: dataDir }, 'versioned-auth cluster ready');
  }, 120_000);

  afterAll(async () => {
    killAll();
    await drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Sends the request on a new connection; resolves with the answer and the pid of the worker that gave it. */
  async function send(method: string, path: string, options: { body?: unknown; token?: string } = {}): Promise<Answer & { pid: number }> {
    const probe = `probe=${++tag}`;
    const answer = await call(server.port, method, `${path}?${probe}`, options);
    let pid: number | undefined;
    await eventually(async () => {
      const line = server.lines.find((l) => l.includes('"incoming request"') && l.includes(`${path}?${probe}"`));
      pid = line ? (JSON.parse(line) as { pid: number }).pid : undefined;
      return pid !== undefined;
    }, `logged ${probe}`);
    return { ...answer, pid: pid! };
  }

  it('a logout-all answered by one worker is honoured by whichever answers next: refresh at once, access within a second', async () => {
    const email = `workers-${randomUUID()}@example.com`;
    const registered = await send('POST', '/auth/register', { body: { email, password: 'correct horse battery' } });
    expect(registered.status).toBe(201);
    const access = registered.body.accessToken as string;
    const refreshToken = registered.body.refreshToken as string;
    // Both workers accept the token before.
    const before = new Set<number>();
    while (before.size < 2) {
      const answer = await send('GET', '/me', { token: access });
      expect(answer.status).toBe(200);
      before.add(answer.pid);
    }

    const logoutAll = await send('POST', '/auth/logout-all', { token: access });
    expect(logoutAll.status).toBe(200);

    // From the next request on, every refresh is refused, until both workers have answered.
    const refusedBy = new Set<number>();
    for (let i = 0; refusedBy.size < 2; i++) {
      expect(i, 'requests never reached both workers').toBeLessThan(20);
      const answer = await send('POST', '/auth/refresh', { body: { refreshToken } });
      expect([answer.status, answer.body.code]).toEqual([401, 'token_revoked']);
      refusedBy.add(answer.pid);
    }
    expect([...refusedBy].sort()).toEqual([...before].sort());
    expect(refusedBy.has(logoutAll.pid)).toBe(true);

    // The access token: refused by each worker soon, and never accepted by a worker again once it refused it.
    const refusedAccess = new Set<number>();
    await eventually(async () => {
      const answer = await send('GET', '/me', { token: access });
      if (answer.status === 200) expect(refusedAccess.has(answer.pid), `worker ${answer.pid} accepted it again`).toBe(false);
      else {
        expect([answer.status, answer.body.code]).toEqual([401, 'token_revoked']);
        refusedAccess.add(answer.pid);
      }
      return refusedAccess.size === 2;
    }, 'refused by both workers');
  });

  it('replaces a worker that dies, and keeps serving meanwhile', async () => {
    const [victim] = workerPids(server.lines);
    process.kill(victim!, 'SIGKILL');
    await eventually(async () => server.lines.some((l) => l.includes('worker exited: starting another') && l.includes(`"worker":${victim}`)), 'noticed');
    expect((await call(server.port, 'GET', '/health')).status).toBe(200);
    // A new worker's start takes a few seconds on a busy machine: poll longer than `eventually`.
    const deadline = performance.now() + 60_000;
    while (new Set(workerPids(server.lines)).size < 3) {
      if (performance.now() > deadline) throw new Error('no new worker');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const pids = new Set<number>();
    for (let i = 0; i < 20 && pids.size < 2; i++) pids.add((await send('GET', '/health')).pid);
    expect(pids.size).toBe(2);
    expect(pids.has(victim!)).toBe(false);
  }, 90_000);

  it('on SIGTERM the primary has every worker finish and close, and exits 0', async () => {
    server.proc.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    const workers = new Set(workerPids(server.lines));
    const closed = new Set(server.lines.filter((l) => l.includes('shutting down: finishing requests in flight')).map((l) => (JSON.parse(l) as { pid: number }).pid));
    expect(closed.size).toBe(2);
    for (const pid of closed) expect(workers.has(pid)).toBe(true);
    expect(server.lines.some((l) => l.includes('every worker has exited'))).toBe(true);
  }, 60_000);
});

describe.skipIf(!TEST_DATABASE_URL)('WORKERS=2 refusing to start', () => {
  const dataDir = runDirectory('workers-refused');
  afterAll(() => {
    killAll();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('on a database that does not exist: one line from the primary, before any worker, exit 1', async () => {
    const url = new URL(TEST_DATABASE_URL!);
    url.pathname = `/missing_${randomUUID().replaceAll('-', '')}`;
    const result = await startRefused({ WORKERS: '2', DATABASE_URL: url.href, PORT: String(await freePort()), DATA_DIR: dataDir });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^versioned-auth: cannot start: DATABASE_URL: database "missing_\w+" does not exist/)]);
    expect(result.stdout).not.toContain('starting workers');
  });

  it('on a port in use: the workers say so, the primary stops them all and exits 1', async () => {
    const port = await freePort();
    const holder: Server = await new Promise((resolve) => {
      const server = createServer().listen(port, '127.0.0.1', () => resolve(server));
    });
    const database = await createTemporaryDatabase(TEST_DATABASE_URL!, 'workers_port');
    try {
      const result = await startRefused({ WORKERS: '2', DATABASE_URL: database.url, PORT: String(port), DATA_DIR: dataDir });
      expect(result.code).toBe(1);
      // One line per worker that got as far as listening before the primary stopped it: one or two.
      const lines = result.stderr.trim().split('\n');
      expect(lines.length).toBeGreaterThanOrEqual(1);
      for (const line of lines) expect(line).toMatch(/^versioned-auth: cannot start: PORT: 127\.0\.0\.1:\d+ is already in use/);
      expect(result.stdout).toContain('every worker has exited');
    } finally {
      holder.close();
      await database.drop();
    }
  }, 90_000);
});
