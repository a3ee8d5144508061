/**
 * The `pglite-thread` scenario (PGlite only, when named with --only): the bench server
 * started twice on fresh data directories, PGLITE_THREAD=main and PGLITE_THREAD=worker,
 * both running throughout and measured back to back in alternating order, round by round:
 * the login storm's /me probe (idle, then during login at full load), refresh and me.
 * Reports, per mode, storm p99 ÷ idle p99 of /me (median of the rounds' own ratios), and
 * refresh and me throughput, p99 and server CPU per request.
 */
import { preflight, seedFixture, type Fixture } from './fixture.js';
import { runLoad, type LoadResult } from './load.js';
import { loginTarget, meTarget, refreshTarget } from './scenarios.js';
import { prepareServer, spawnBenchServer, type ServerProcess } from './server-process.js';
import { median } from './stats.js';
import type { WorkersOptions } from './workers.js';

const MODES = ['main', 'worker'] as const;
type Mode = (typeof MODES)[number];

export interface PgliteThreadRound {
  round: number;
  mode: Mode;
  idle: LoadResult;
  storm: LoadResult;
  login: LoadResult;
  refresh: LoadResult;
  me: LoadResult;
}

export interface PgliteThreadResult {
  notApplicable?: string;
  rounds: PgliteThreadRound[];
  ok: boolean;
}

/** The workers scenario's options, and how many users log in during the storm. */
export interface PgliteThreadOptions extends WorkersOptions {
  users: number;
}

/** Measures PGlite on the event loop against PGlite in a worker thread; n/a on PostgreSQL. */
export async function measurePgliteThread(options: PgliteThreadOptions): Promise<PgliteThreadResult> {
  const { connections, duration, rounds, log } = options;
  const result: PgliteThreadResult = { rounds: [], ok: true };
  if (options.databaseUrl) return { ...result, notApplicable: 'n/a on PostgreSQL: PGLITE_THREAD is about the embedded database' };

  const servers: Partial<Record<Mode, { server: ServerProcess; fixture: Fixture }>> = {};
  try {
    for (const mode of MODES) {
      const setup = await prepareServer({ log });
      setup.env.PGLITE_THREAD = mode;
      const child = await spawnBenchServer(setup, { repoRoot: options.repoRoot, log, name: `bench server (PGLITE_THREAD=${mode})` });
      const server: ServerProcess = { ...child, database: 'pglite', seedKey: setup.seedKey, password: setup.password, stop: () => child.stop().then(() => setup.cleanup()) };
      // Each refresh run takes fresh chains: one for the warm-up, one per round, and preflight's one.
      const fixture = await seedFixture(server, { users: options.users, chains: 1 + connections * (1 + rounds), victimSessions: 1 });
      await preflight(fixture);
      servers[mode] = { server, fixture };
    }
    const on = (mode: Mode) => servers[mode]!;
    const load = (mode: Mode, target: Parameters<typeof runLoad>[0], extra: { connections?: number; duration?: number; cpu?: boolean } = {}) =>
      runLoad(target, {
        baseUrl: on(mode).server.baseUrl,
        connections: extra.connections ?? connections,
        duration: extra.duration ?? duration,
        serverPid: on(mode).server.pid,
        perRequestCpu: extra.cpu !== false,
      });

    if (options.warmup > 0) {
      for (const mode of MODES) {
        const { fixture } = on(mode);
        await load(mode, meTarget(fixture), { duration: options.warmup });
        await load(mode, refreshTarget(fixture, connections), { duration: options.warmup });
        await load(mode, loginTarget(fixture), { duration: options.warmup, cpu: false });
      }
    }
    for (let round = 1; round <= rounds; round++) {
      // Alternate which goes first, so neither always meets a warmer (or busier) machine.
      const order = round % 2 === 1 ? MODES : [...MODES].reverse();
      for (const mode of order) {
        const { fixture } = on(mode);
        const idle = await load(mode, meTarget(fixture), { connections: 1, cpu: false });
        const [storm, login] = await Promise.all([load(mode, meTarget(fixture), { connections: 1, cpu: false }), load(mode, loginTarget(fixture), { cpu: false })]);
        const refresh = await load(mode, refreshTarget(fixture, connections));
        const me = await load(mode, meTarget(fixture));
        const run = { round, mode, idle, storm, login, refresh, me };
        result.rounds.push(run);
        for (const line of roundLines(run)) log(line);
      }
    }
  } finally {
    for (const { server } of Object.values(servers)) await server.stop();
  }
  result.ok = result.rounds.every((run) => [run.idle, run.storm, run.login, run.refresh, run.me].every((r) => r.non2xx === 0 && r.errors === 0));
  return result;
}

const ms = (value: number) => value.toFixed(2);
const us = (value: number | undefined) => (value === undefined ? 'n/a' : Math.round(value).toString());

function roundLines(run: PgliteThreadRound): string[] {
  const errors = [run.idle, run.storm, run.login, run.refresh, run.me].reduce((sum, r) => sum + r.non2xx + r.errors, 0);
  return [
    `  round ${run.round} PGLITE_THREAD=${run.mode.padEnd(6)} /me p99 idle ${ms(run.idle.latency.p99)} ms, storm ${ms(run.storm.latency.p99)} ms ` +
      `(×${(run.storm.latency.p99 / run.idle.latency.p99).toFixed(2)}; login ${run.login.rps.toFixed(1)} req/s); ` +
      `refresh ${Math.round(run.refresh.rps)} req/s p99 ${ms(run.refresh.latency.p99)} ms ${us(run.refresh.cpuUsPerRequest)} µs/req; ` +
      `me ${Math.round(run.me.rps)} req/s ${us(run.me.cpuUsPerRequest)} µs/req${errors ? `  !! ${errors} non-2xx/errors` : ''}`,
  ];
}

/** The report's lines: per mode, medians over the rounds, and each round's storm ratio. */
export function pgliteThreadLines(result: PgliteThreadResult | undefined): string[] {
  if (!result) return [];
  if (result.notApplicable) return ['', `PGLITE_THREAD main vs worker: ${result.notApplicable}`];
  const lines = ['', 'PGLITE_THREAD=main vs worker (two bench servers, alternating order each round; medians of the rounds):'];
  for (const mode of MODES) {
    const runs = result.rounds.filter((run) => run.mode === mode);
    const ratios = runs.map((run) => run.storm.latency.p99 / run.idle.latency.p99);
    const m = (pick: (run: PgliteThreadRound) => number | undefined) => median(runs.map(pick).filter((v): v is number => v !== undefined));
    lines.push(
      `  ${mode.padEnd(6)} storm/idle /me p99 ×${(median(ratios) ?? NaN).toFixed(2)} (rounds: ${ratios.map((r) => r.toFixed(2)).join(', ')}); ` +
        `idle p99 ${ms(m((run) => run.idle.latency.p99) ?? NaN)} ms, storm p99 ${ms(m((run) => run.storm.latency.p99) ?? NaN)} ms; ` +
        `refresh ${Math.round(m((run) => run.refresh.rps) ?? NaN)} req/s, p99 ${ms(m((run) => run.refresh.latency.p99) ?? NaN)} ms, ${us(m((run) => run.refresh.cpuUsPerRequest))} µs/req; ` +
        `me ${Math.round(m((run) => run.me.rps) ?? NaN)} req/s, ${us(m((run) => run.me.cpuUsPerRequest))} µs/req; login ${(m((run) => run.login.rps) ?? NaN).toFixed(1)} req/s`,
    );
  }
  return lines;
}
