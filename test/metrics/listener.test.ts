import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD, seedDataDir, TEST_DATABASE_URL, uniqueEmail } from '../helper.js';
import { call, freePort, killAll, startRefused, startServer, type ServerProcess } from '../multi-instance/processes.js';
import { parseExposition } from '../support/prometheus.js';
import { createTemporaryDatabase } from '../support/temporary-database.js';

/**
 * METRICS_PORT on the real server (`npm run build` first): its own listener at HOST, never
 * the public port, off when unset; with WORKERS the primary serves every worker's sum.
 */
const dirs: string[] = [];
const drops: (() => Promise<void>)[] = [];
afterAll(async () => {
  killAll();
  for (const drop of drops) await drop();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** The database variables of a server of its own: a fresh DATA_DIR, and a fresh database on TEST_DATABASE_URL. */
async function databaseEnv(): Promise<Record<string, string>> {
  const dataDir = mkdtempSync(join(tmpdir(), 'versioned-auth-metrics-'));
  dirs.push(dataDir);
  if (!TEST_DATABASE_URL) {
    await seedDataDir(dataDir);
    return { DATA_DIR: dataDir };
  }
  const database = await createTemporaryDatabase(TEST_DATABASE_URL, 'metrics');
  drops.push(database.drop);
  return { DATA_DIR: dataDir, DATABASE_URL: database.url };
}

/** One GET on a connection of its own, to any address. */
function get(host: string, port: number, path: string): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The TCP ports `pid` listens on, from Linux's /proc: its socket inodes matched with the listening sockets. */
function listeningPorts(pid: number): number[] {
  const inodes = new Set(
    readdirSync(`/proc/${pid}/fd`).flatMap((fd) => {
      try {
        const match = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
        return match ? [match[1]!] : [];
      } catch {
        return [];
      }
    }),
  );
  const ports = ['tcp', 'tcp6'].flatMap((table) =>
    readFileSync(`/proc/${pid}/net/${table}`, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .filter((fields) => fields[3] === '0A' && inodes.has(fields[9]!))
      .map((fields) => parseInt(fields[1]!.split(':')[1]!, 16)),
  );
  return [...new Set(ports)].sort((a, b) => a - b);
}

describe('METRICS_PORT', () => {
  const host = '127.0.0.2';
  let server: ServerProcess;
  let metricsPort: number;

  beforeAll(async () => {
    metricsPort = await freePort();
    server = await startServer({ ...(await databaseEnv()), HOST: host, METRICS_PORT: String(metricsPort), RATE_LIMIT: 'off' });
  }, 120_000);

  it('serves Prometheus text at /metrics, and a login moves its counter', async () => {
    const scrape = async () => {
      const res = await get(host, metricsPort, '/metrics');
      expect(res.status).toBe(200);
      expect(res.type).toBe('text/plain; version=0.0.4; charset=utf-8');
      return parseExposition(res.body);
    };
    const email = uniqueEmail('listener');
    const before = await scrape();
    const registered = await rawCall(host, server.port, 'POST', '/auth/register', { email, password: PASSWORD });
    expect(registered).toBe(201);
    expect(await rawCall(host, server.port, 'POST', '/auth/login', { email, password: PASSWORD })).toBe(200);
    const after = await scrape();
    expect(after.value('versioned_auth_logins_total', { result: 'success' }) - before.value('versioned_auth_logins_total', { result: 'success' })).toBe(1);
    expect(after.value('versioned_auth_registrations_total', { result: 'success' })).toBe(1);
    expect(after.types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
  });

  it('is not on the public port, and serves nothing but /metrics', async () => {
    const res = await get(host, server.port, '/metrics');
    expect(res.status).toBe(404);
    expect(res.type).toContain('application/problem+json');
    expect((await get(host, metricsPort, '/')).status).toBe(404);
    expect((await get(host, metricsPort, '/health')).status).toBe(404);
  });

  it('binds HOST only', async () => {
    await expect(get('127.0.0.1', metricsPort, '/metrics')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(listeningPorts(server.proc.pid!)).toEqual([server.port, metricsPort].sort((a, b) => a - b));
  });

  it('is off when unset: the server listens on PORT alone', async () => {
    const plain = await startServer({ ...(await databaseEnv()), RATE_LIMIT: 'off' });
    expect(listeningPorts(plain.proc.pid!)).toEqual([plain.port]);
    expect((await call(plain.port, 'GET', '/metrics')).status).toBe(404);
    plain.proc.kill('SIGTERM');
    expect(await plain.exited).toBe(0);
  }, 120_000);

  it('refuses to start when METRICS_PORT is taken, naming it', async () => {
    const taken = createServer();
    const port = await new Promise<number>((resolve) => taken.listen(0, '127.0.0.1', () => resolve((taken.address() as { port: number }).port)));
    try {
      const result = await startRefused({ ...(await databaseEnv()), PORT: String(await freePort()), METRICS_PORT: String(port) });
      expect(result.code).toBe(1);
      expect(result.stderr).toContain(`versioned-auth: cannot start: METRICS_PORT: 127.0.0.1:${port} is already in use`);
    } finally {
      taken.close();
    }
  }, 120_000);
});

/** WORKERS refuses the embedded database: PostgreSQL only. */
describe.skipIf(!TEST_DATABASE_URL)('METRICS_PORT with WORKERS=2', () => {
  let server: ServerProcess;
  let metricsPort: number;

  beforeAll(async () => {
    metricsPort = await freePort();
    server = await startServer({ ...(await databaseEnv()), WORKERS: '2', METRICS_PORT: String(metricsPort), RATE_LIMIT: 'off' }, 'versioned-auth cluster ready');
  }, 120_000);

  it("serves the sum of every worker's metrics from the primary", async () => {
    const email = uniqueEmail('workers');
    expect((await call(server.port, 'POST', '/auth/register', { body: { email, password: PASSWORD } })).status).toBe(201);
    // A connection each: the cluster hands them to the workers in turn.
    const LOGINS = 4;
    for (let i = 0; i < LOGINS; i++) expect((await call(server.port, 'POST', '/auth/login', { body: { email, password: PASSWORD } })).status).toBe(200);
    const res = await get('127.0.0.1', metricsPort, '/metrics');
    expect(res.status).toBe(200);
    const metrics = parseExposition(res.body);
    expect(metrics.value('versioned_auth_logins_total', { result: 'success' })).toBe(LOGINS);
    expect(metrics.value('versioned_auth_registrations_total', { result: 'success' })).toBe(1);
    expect(metrics.value('versioned_auth_revocation_feed_up')).toBe(1);
    // The workers serve no metrics themselves: only the primary listens there.
    expect(listeningPorts(server.proc.pid!)).toContain(metricsPort);
  }, 60_000);

  it("sums every worker's request-duration histogram: _count, each bucket, _sum", async () => {
    const REQUESTS = 6;
    for (let i = 0; i < REQUESTS; i++) expect((await call(server.port, 'GET', '/.well-known/jwks.json')).status).toBe(200);
    const res = await get('127.0.0.1', metricsPort, '/metrics');
    expect(res.status).toBe(200);
    const metrics = parseExposition(res.body);
    const name = 'versioned_auth_http_request_duration_seconds';
    const labels = { method: 'GET', route: '/.well-known/jwks.json', status_code: '200' };
    expect(metrics.value(`${name}_count`, labels)).toBe(REQUESTS);
    expect(metrics.value(`${name}_bucket`, { ...labels, le: '+Inf' })).toBe(REQUESTS);
    // One series per label set, not one per worker: the parser checked the buckets are cumulative.
    expect(metrics.samples.filter((s) => s.name === `${name}_bucket` && s.labels.route === labels.route)).toHaveLength(15);
    expect(metrics.value(`${name}_sum`, labels)).toBeGreaterThan(0);
  }, 60_000);
});

/** A JSON POST to any address; resolves with the status. */
function rawCall(host: string, port: number, method: string, path: string, body: unknown): Promise<number> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request({ host, port, method, path, agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end(payload);
  });
}
