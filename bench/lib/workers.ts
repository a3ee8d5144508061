/**
 * The `workers` scenario: GET /me and POST /auth/refresh throughput of the real server
 * (src/server.ts, as `npm start` runs it) with WORKERS=2 against WORKERS=1, both on one
 * fresh PostgreSQL database, both running for the whole measurement and measured back to
 * back in alternating order, round by round. Reports the median of the rounds' own
 * ratios. PostgreSQL only: WORKERS refuses the embedded database.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { LISTENER_APPLICATION_NAME } from '../../src/db/client.js';
import { createTemporaryDatabase } from '../../test/support/temporary-database.js';
import { runLoad, type LoadResult, type Target } from './load.js';
import { median } from './stats.js';

const WORKER_COUNTS = [1, 2] as const;
type WorkerCount = (typeof WORKER_COUNTS)[number];
type Scenario = 'me' | 'refresh';

export interface WorkersRun {
  round: number;
  workers: WorkerCount;
  scenario: Scenario;
  rps: number;
  p99: number;
  non2xx: number;
  errors: number;
}

export interface WorkersResult {
  /** Why nothing was measured (PGlite). */
  notApplicable?: string;
  connections: number;
  duration: number;
  rounds: number;
  runs: WorkersRun[];
  /** Median req/s over the rounds, by worker count. */
  medianRps?: Record<Scenario, Record<WorkerCount, number | undefined>>;
  /** Each round's 2-worker req/s over its 1-worker req/s. */
  ratiosByRound?: Record<Scenario, (number | undefined)[]>;
  /** The median of ratiosByRound. */
  ratio?: Record<Scenario, number | undefined>;
  ok: boolean;
}

export interface WorkersOptions {
  repoRoot: string;
  databaseUrl: string | undefined;
  connections: number;
  duration: number;
  warmup: number;
  rounds: number;
  log(line: string): void;
}

const CAVEAT = 'the load generator and PostgreSQL share the same cores, and other work on the machine moves both figures';

/** Measures WORKERS=1 against WORKERS=2; n/a without a PostgreSQL server. */
export async function measureWorkers(options: WorkersOptions): Promise<WorkersResult> {
  const { connections, duration, rounds, log } = options;
  const base = { connections, duration, rounds, runs: [] as WorkersRun[] };
  if (!options.databaseUrl) return { ...base, notApplicable: 'n/a on PGlite: WORKERS needs DATABASE_URL', ok: true };

  const database = await createTemporaryDatabase(options.databaseUrl, `bench_workers_${Date.now()}`);
  const dataDir = mkdtempSync(join(tmpdir(), 'versioned-auth-bench-workers-'));
  const env = {
    ...Object.fromEntries(['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ'].flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : []))),
    DATABASE_URL: database.url,
    DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
    RATE_LIMIT: 'off',
    JWT_ACCESS_SECRET: randomBytes(32).toString('base64url'),
    JWT_REFRESH_SECRET: randomBytes(32).toString('base64url'),
    ACCESS_TOKEN_TTL: '2h',
  };
  const servers: Partial<Record<WorkerCount, Started>> = {};
  try {
    let processes = 0;
    for (const workers of WORKER_COUNTS) {
      processes += workers;
      servers[workers] = await start(options.repoRoot, { ...env, WORKERS: String(workers) }, database.name, processes, log);
    }
    const baseUrl = (workers: WorkerCount) => servers[workers]!.baseUrl;
    const { accessToken, newChains } = await signUp(baseUrl(1), connections);

    const target = (scenario: Scenario, chains: string[]): Target =>
      scenario === 'me' ? meTarget(accessToken) : refreshTarget(chains);
    const measure = async (workers: WorkerCount, scenario: Scenario, seconds: number) =>
      runLoad(target(scenario, scenario === 'refresh' ? await newChains() : []), { baseUrl: baseUrl(workers), connections, duration: seconds });

    if (options.warmup > 0) {
      for (const workers of WORKER_COUNTS) for (const scenario of ['me', 'refresh'] as const) await measure(workers, scenario, options.warmup);
    }
    for (let round = 1; round <= rounds; round++) {
      // Alternate which goes first, so neither always meets a warmer (or busier) machine.
      const order = round % 2 === 1 ? WORKER_COUNTS : [...WORKER_COUNTS].reverse();
      for (const scenario of ['me', 'refresh'] as const) {
        for (const workers of order) {
          const result = await measure(workers, scenario, duration);
          base.runs.push(summary(round, workers, scenario, result));
          log(`  workers=${workers} ${scenario.padEnd(8)} ${Math.round(result.rps).toString().padStart(7)} req/s  p99 ${result.latency.p99.toFixed(2)} ms${result.non2xx || result.errors ? `  !! ${result.non2xx} non-2xx, ${result.errors} errors` : ''}`);
        }
      }
    }
  } finally {
    for (const server of Object.values(servers)) await server.stop();
    await database.drop().catch((error: unknown) => log(`workers: dropping ${database.name}: ${String(error)}`));
    rmSync(dataDir, { recursive: true, force: true });
  }
  return withMedians({ ...base, ok: base.runs.every((run) => run.non2xx === 0 && run.errors === 0) });
}

function summary(round: number, workers: WorkerCount, scenario: Scenario, result: LoadResult): WorkersRun {
  return { round, workers, scenario, rps: result.rps, p99: result.latency.p99, non2xx: result.non2xx, errors: result.errors };
}

/**
 * Medians by worker count, and the ratio as the median of each round's own ratio: the two
 * runs of a round are back to back, so load that comes and goes on the machine between
 * rounds cancels out of it.
 */
function withMedians(result: WorkersResult): WorkersResult {
  const rps = (scenario: Scenario, workers: WorkerCount, round?: number) =>
    median(result.runs.filter((run) => run.scenario === scenario && run.workers === workers && (round === undefined || run.round === round)).map((run) => run.rps));
  const medianRps = { me: { 1: rps('me', 1), 2: rps('me', 2) }, refresh: { 1: rps('refresh', 1), 2: rps('refresh', 2) } };
  const roundRatios = (scenario: Scenario) =>
    Array.from({ length: result.rounds }, (_, i) => {
      const [one, two] = [rps(scenario, 1, i + 1), rps(scenario, 2, i + 1)];
      return one && two ? two / one : undefined;
    });
  const perRound = { me: roundRatios('me'), refresh: roundRatios('refresh') };
  return { ...result, medianRps, ratiosByRound: perRound, ratio: { me: median(perRound.me), refresh: median(perRound.refresh) } };
}

/** The report's lines about WORKERS (text and Markdown alike). */
export function workersLines(result: WorkersResult | undefined): string[] {
  if (!result) return [];
  if (result.notApplicable) return ['', `WORKERS=2 vs 1: ${result.notApplicable}`];
  const line = (scenario: Scenario) => {
    const m = result.medianRps?.[scenario];
    const ratio = result.ratio?.[scenario];
    const rounds = (result.ratiosByRound?.[scenario] ?? []).map((r) => (r === undefined ? 'n/a' : r.toFixed(2))).join(', ');
    return `  ${scenario.padEnd(8)} ${Math.round(m?.[1] ?? 0)} → ${Math.round(m?.[2] ?? 0)} req/s (medians); ratio ×${ratio === undefined ? 'n/a' : ratio.toFixed(2)} (median of the rounds' ${rounds})`;
  };
  return [
    '',
    `WORKERS=2 vs WORKERS=1 (the real server, one PostgreSQL database, ${result.connections} connections, ${result.rounds} round(s) × ${result.duration} s):`,
    line('me'),
    line('refresh'),
    `  (${CAVEAT})`,
  ];
}

/** The Markdown report's section about WORKERS. */
export function workersMarkdown(result: WorkersResult | undefined): string[] {
  if (!result) return [];
  const heading = '## WORKERS=2 against WORKERS=1';
  if (result.notApplicable) return [heading, '', `${result.notApplicable}.`, ''];
  const row = (scenario: Scenario) => {
    const m = result.medianRps?.[scenario];
    const ratio = result.ratio?.[scenario];
    const rounds = (result.ratiosByRound?.[scenario] ?? []).map((r) => (r === undefined ? 'n/a' : r.toFixed(2))).join(', ');
    return `| \`${scenario}\` | ${Math.round(m?.[1] ?? 0)} | ${Math.round(m?.[2] ?? 0)} | ${ratio === undefined ? 'n/a' : `×${ratio.toFixed(2)}`} | ${rounds} |`;
  };
  return [
    heading,
    '',
    `The real server (src/server.ts) with WORKERS=1 and with WORKERS=2 on one PostgreSQL database, both running throughout, ` +
      `measured back to back in alternating order; ${result.connections} connections, ${result.rounds} round(s) × ${result.duration} s; ` +
      `req/s are medians, the ratio is the median of each round's own ratio. ` +
      `Caveat: ${CAVEAT}.`,
    '',
    '| scenario | 1 worker, req/s | 2 workers, req/s | ratio (median of rounds) | each round |',
    '| --- | ---: | ---: | ---: | ---: |',
    row('me'),
    row('refresh'),
    '',
  ];
}

/** GET /me with one token on every request. */
function meTarget(accessToken: string): Target {
  const headers = { authorization: `Bearer ${accessToken}` };
  return { method: 'GET', path: '/me', connection: () => ({ next: () => ({ headers }) }) };
}

/** POST /auth/refresh: connection i follows the rotation chain that starts at `chains[i]`. */
function refreshTarget(chains: string[]): Target {
  return {
    method: 'POST',
    path: '/auth/refresh',
    headers: { 'content-type': 'application/json' },
    connection: (index) => {
      let token = chains[index];
      if (token === undefined) throw new Error(`no refresh chain for connection ${index}`);
      return {
        next: () => ({ body: JSON.stringify({ refreshToken: token }) }),
        onResponse: (status, body) => {
          if (status === 200) token = (JSON.parse(body) as { refreshToken: string }).refreshToken;
        },
      };
    },
  };
}

/**
 * Registers one user; `newChains()` signs in `connections` times more, so every refresh run
 * starts fresh chains (a run cut short leaves its last token spent but unseen).
 */
async function signUp(baseUrl: string, connections: number) {
  const email = `workers-${randomBytes(6).toString('hex')}@bench.example`;
  const password = `bench-${randomBytes(9).toString('base64url')}`;
  const post = async (path: string, status: number) => {
    const response = await fetch(`${baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
    if (response.status !== status) throw new Error(`workers: ${path} answered ${response.status} ${await response.text()}`);
    return (await response.json()) as { accessToken: string; refreshToken: string };
  };
  const { accessToken } = await post('/auth/register', 201);
  const newChains = async () => {
    const chains: string[] = [];
    // A few at a time: each is an argon2 verification on the server.
    for (let i = 0; i < connections; i += 4) {
      const batch = await Promise.all(Array.from({ length: Math.min(4, connections - i) }, () => post('/auth/login', 200)));
      chains.push(...batch.map((tokens) => tokens.refreshToken));
    }
    return chains;
  };
  return { accessToken, newChains };
}

interface Started {
  baseUrl: string;
  stop(): Promise<void>;
}

/**
 * Starts src/server.ts as `npm start` does (through tsx) and waits until it serves and
 * every one of its workers listens for revocations: `listeners` counts those of every
 * server started so far on `databaseName` (each process has one).
 */
async function start(repoRoot: string, env: Record<string, string>, databaseName: string, listeners: number, log: (line: string) => void): Promise<Started> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--require', './src/runtime/pool-priority.cjs', '--import', 'tsx', 'src/server.ts'], {
    cwd: repoRoot,
    env: { ...env, HOST: '127.0.0.1', PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const label = `[workers=${env.WORKERS}]`;
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) log(`${label} ${line}`);
    });
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = () => stopChild(child, exited);
  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    await waitFor(`${label} to serve with every worker`, child, async () => (await serves(baseUrl)) && (await countListeners(env.DATABASE_URL!, databaseName)) >= listeners);
  } catch (error) {
    await stop();
    throw error;
  }
  return { baseUrl, stop };
}

async function serves(baseUrl: string): Promise<boolean> {
  try {
    return (await fetch(`${baseUrl}/health`)).ok;
  } catch {
    return false;
  }
}

async function countListeners(url: string, databaseName: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>('select count(*) as n from pg_stat_activity where application_name = $1 and datname = $2', [
      LISTENER_APPLICATION_NAME,
      databaseName,
    ]);
    return Number(rows[0]!.n);
  } finally {
    await client.end();
  }
}

async function waitFor(what: string, child: ChildProcess, ready: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + 90_000;
  while (!(await ready())) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what}: it exited`);
    if (performance.now() > deadline) throw new Error(`${what}: not within 90 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 25_000);
  await exited;
  clearTimeout(timer);
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
