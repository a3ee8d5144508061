import { join } from 'node:path';
import type { DatabaseConfig } from '../../src/config/index.js';
import type { RevocationEvent } from '../../src/db/revocations.js';
import type { Fixture } from './fixture.js';
import { runLoad, type LoadResult } from './load.js';
import { rssMiB } from './proc.js';
import { insertRevocations } from './revocation-rows.js';
import { meHeader, meTarget } from './scenarios.js';
import { prepareServer, spawnBenchServer, type ChildServer, type ServerSetup } from './server-process.js';
import { median } from './stats.js';

/** The three servers `me` is compared on, each a fresh process on a fresh database of its own. */
export const VARIANTS = ['off', 'instant', 'instant-loaded'] as const;
export type Variant = (typeof VARIANTS)[number];

export interface VariantResult {
  variant: Variant;
  /** ACCESS_TOKEN_REVOCATION it ran with. */
  mode: 'off' | 'instant';
  /** Revocation rows in its table at start (reloaded into its list). */
  rows: number;
  /** From spawn to serving /health, ms (start-up includes the reload). */
  startMs: number;
  /** JS heap in use and RSS after full collections, right after start. */
  heapMiB?: number;
  rssMiB?: number;
  /** Server CPU per `me` request, µs: median over rounds, and each round's. */
  cpuUsPerRequest?: number;
  rounds: (number | undefined)[];
  non2xx: number;
  errors: number;
}

export interface RevocationCost {
  rows: number;
  requests: number;
  variants: VariantResult[];
  /** instant ÷ off, instant-loaded ÷ off: CPU per request. */
  instantVsOff?: number;
  loadedVsOff?: number;
  /** What the loaded list costs the server: heap of instant-loaded − instant, MiB. */
  loadedHeapMiB?: number;
  loadedRssMiB?: number;
  /** The loaded server refused the token whose session a reloaded row revokes (proof the reload happened). */
  reloadChecked: boolean;
  failures: string[];
}

export interface CostOptions {
  repoRoot: string;
  databaseUrl?: string;
  /** The run's bench server: its keys sign the fixture's tokens, which the variants verify. */
  keys: NodeJS.ProcessEnv;
  fixture: Fixture;
  rows: number;
  connections: number;
  warmupSeconds: number;
  cpuSeconds: number;
  rounds: number;
  log: (line: string) => void;
}

/** Where a setup's database is, for opening it from the runner before its server starts. */
export function databaseOf(setup: ServerSetup): DatabaseConfig {
  return setup.env.DATABASE_URL ? { kind: 'postgres', url: setup.env.DATABASE_URL } : { kind: 'pglite', dataDir: join(setup.env.DATA_DIR!, 'pglite') };
}

/**
 * `me` on three fresh servers with the run's keys: ACCESS_TOKEN_REVOCATION=off, `instant`
 * with an empty table, and `instant` after reloading `rows` revocations of the mix at start.
 * Each is read (heap, RSS after full collections) when it serves, then warmed up, then
 * measured in interleaved rounds of a fixed number of requests (server CPU per request, from
 * /proc). The ratios to `off` are the feed's cost per request, empty and with a full window.
 */
export async function revocationCost(options: CostOptions): Promise<RevocationCost> {
  const { log, fixture } = options;
  const servers: { variant: Variant; server: ChildServer; setup: ServerSetup; result: VariantResult }[] = [];
  const failures: string[] = [];
  let reloadChecked = false;
  try {
    for (const variant of VARIANTS) {
      const mode = variant === 'off' ? 'off' : 'instant';
      const setup = await prepareServer({ databaseUrl: options.databaseUrl, log });
      // The fixture's tokens verify here (same keys); no seeding, so no seed route and no argon2 at start.
      const { BENCH_SEED_KEY: _key, BENCH_PASSWORD: _password, ...env } = setup.env;
      Object.assign(env, { JWT_ACCESS_SECRET: options.keys.JWT_ACCESS_SECRET!, JWT_REFRESH_SECRET: options.keys.JWT_REFRESH_SECRET!, ACCESS_TOKEN_REVOCATION: mode });
      const rows = variant === 'instant-loaded' ? options.rows : 0;
      if (rows) {
        // One more row: the victim's first session, so the reload can be seen to have happened.
        const proof: RevocationEvent = { kind: 'session', userId: fixture.victim.id, sessionId: fixture.victim.sessions[0]!.id, at: Date.now() };
        const t0 = performance.now();
        await insertRevocations(databaseOf(setup), rows, Date.now(), 30 * 60_000, [proof]);
        log(`  ${rows.toLocaleString('en-US')} revocation rows written in ${Math.round(performance.now() - t0)} ms`);
      }
      const started = performance.now();
      let server: ChildServer;
      try {
        server = await spawnBenchServer({ ...setup, env }, { repoRoot: options.repoRoot, log, name: `bench server (${variant})` });
      } catch (error) {
        await setup.cleanup();
        throw error;
      }
      const result: VariantResult = { variant, mode, rows, startMs: performance.now() - started, rounds: [], non2xx: 0, errors: 0 };
      servers.push({ variant, server, setup, result });
      const { heapUsed } = (await (await fetch(`${server.baseUrl}/bench/gc`, { method: 'POST' })).json()) as { heapUsed: number };
      result.heapMiB = heapUsed / 1048576;
      result.rssMiB = rssMiB(server.pid);
      log(`  ${variant}: serving after ${Math.round(result.startMs)} ms, heap ${result.heapMiB.toFixed(1)} MiB, RSS ${result.rssMiB?.toFixed(1)} MiB`);
      if (rows) {
        const victim = { authorization: `Bearer ${fixture.victim.sessions[0]!.accessToken}` };
        const answer = await fetch(`${server.baseUrl}/me`, { headers: victim });
        const code = answer.status === 401 ? ((await answer.json()) as { code?: string }).code : undefined;
        reloadChecked = code === 'token_revoked';
        if (!reloadChecked) failures.push(`the server that reloaded ${rows} rows answered ${answer.status} to a token one of them revokes`);
      }
      const check = await fetch(`${server.baseUrl}/me`, { headers: meHeader(fixture) });
      if (check.status !== 200) failures.push(`${variant}: GET /me answered ${check.status}: ${(await check.text()).slice(0, 200)}`);
    }

    const load = (server: ChildServer, extra: { duration?: number; amount?: number }) =>
      runLoad(meTarget(fixture), { baseUrl: server.baseUrl, connections: options.connections, serverPid: server.pid, ...extra });
    const account = (result: VariantResult, run: LoadResult) => {
      result.non2xx += run.non2xx;
      result.errors += run.errors;
      if (run.non2xx || run.errors) failures.push(`${result.variant}: ${run.non2xx} non-2xx, ${run.errors} errors ${run.failures.slice(0, 1).join('')}`);
    };
    // Sized on server CPU, not on warm-up throughput: the 3 % compared here needs ≥ 200 clock
    // ticks per measurement (0.5 % resolution), which a cold server's warm-up rate undershoots.
    let requests = options.connections;
    for (const { server, result } of servers) {
      const warm = await load(server, { duration: Math.max(0.5, options.warmupSeconds) });
      account(result, warm);
      const perRequestUs = warm.cpuUsPerRequest && warm.cpuUsPerRequest > 0 ? warm.cpuUsPerRequest : 100;
      requests = Math.max(requests, Math.round((options.cpuSeconds * 1e6) / perRequestUs / 10) * 10);
    }
    for (let round = 0; round < options.rounds; round++) {
      for (const { server, result } of servers) {
        const run = await load(server, { amount: requests });
        account(result, run);
        result.rounds.push(run.cpuUsPerRequest);
      }
    }
    for (const { result } of servers) result.cpuUsPerRequest = median(result.rounds);

    const of = (variant: Variant) => servers.find((s) => s.variant === variant)?.result;
    const ratio = (a?: number, b?: number) => (a !== undefined && b ? a / b : undefined);
    const diff = (a?: number, b?: number) => (a !== undefined && b !== undefined ? a - b : undefined);
    return {
      rows: options.rows,
      requests,
      variants: servers.map((s) => s.result),
      instantVsOff: ratio(of('instant')?.cpuUsPerRequest, of('off')?.cpuUsPerRequest),
      loadedVsOff: ratio(of('instant-loaded')?.cpuUsPerRequest, of('off')?.cpuUsPerRequest),
      loadedHeapMiB: diff(of('instant-loaded')?.heapMiB, of('instant')?.heapMiB),
      loadedRssMiB: diff(of('instant-loaded')?.rssMiB, of('instant')?.rssMiB),
      reloadChecked,
      failures,
    };
  } finally {
    for (const { server, setup } of servers) {
      await server.stop();
      await setup.cleanup();
    }
  }
}
