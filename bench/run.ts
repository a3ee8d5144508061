/**
 * `npm run bench`: the load-test suite. Starts bench/server.ts as a child process (PGlite,
 * or a fresh database on DATABASE_URL's server) and the reference servers (bare Fastify,
 * each in its own process), seeds users and tokens, warms up, runs the scenarios in
 * interleaved rounds with autocannon, reports medians and ratios to baseline and to the
 * references against the targets, checks refresh and login against the previous report,
 * saves JSON, Markdown and SVG under bench/results/, and stops everything it started.
 * `--quick` is the smoke check: exit 1 on any error, speed ignored. `--instructions` is a
 * separate mode: instructions per request under valgrind's callgrind (bench/lib/instructions.ts).
 * See bench/README.md.
 */
import { cpus } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createArgon2Bench } from './lib/argon2-rate.js';
import { checkReference, meAnswer, preflight, seedFixture } from './lib/fixture.js';
import { INSTRUCTION_SCENARIOS, runInstructions, type InstructionsSettings } from './lib/instructions.js';
import { runLoad, type LoadResult, type Target } from './lib/load.js';
import { logoutAllUnderLoad, type LogoutAllResult } from './lib/logout-all.js';
import { runRevocationBench, type RevocationResult } from './lib/revocation-bench.js';
import { REVOCATION_INSTRUCTION_SCENARIOS } from './lib/revocation-instructions.js';
import { METRICS_INSTRUCTION_SCENARIOS } from './lib/metrics-instructions.js';
import { saveReport } from './lib/output.js';
import { readPreviousRun } from './lib/previous.js';
import { CLOCK_TICKS, peakRssMiB, rssMiB, threadUsage } from './lib/proc.js';
import { summariseProfile } from './lib/profile.js';
import { checkTargets, fmt, interferenceWarnings, summarise, textReport, type Report, type RoundResult, type RunSettings } from './lib/report.js';
import {
  isReference,
  loginTarget,
  meTarget,
  OPTIONAL_SCENARIOS,
  REFERENCE_SCENARIOS,
  ROUND_SCENARIOS,
  roundTarget,
  type ReferenceScenario,
  type RoundScenario,
} from './lib/scenarios.js';
import { startReferenceServer, startServer, type ChildServer, type ServerProcess } from './lib/server-process.js';
import { measureMemory } from './lib/memory.js';
import { measurePgliteThread, pgliteThreadLines } from './lib/pglite-thread.js';
import { measureWorkers } from './lib/workers.js';

const ALL_SCENARIOS = [...ROUND_SCENARIOS, 'login-storm', 'logout-all-under-load', 'revocation', 'workers', 'memory', 'pglite-thread'] as const;
type ScenarioName = (typeof ALL_SCENARIOS)[number];

const HELP = `usage: npm run bench -- [options]        (or: npx tsx bench/run.ts [options])

  --quick               smoke check in under a minute: 1 short round, few users;
                        asserts no errors (exit 1 otherwise), not speed; saves nothing
  --duration <s>        seconds per scenario per round            (default 8; quick 1)
  --connections <n>     autocannon connections                    (default 10)
  --rounds <n>          interleaved rounds, medians reported       (default 3; quick 1)
  --warmup <s>          warm-up seconds per scenario               (default 2; quick 0.5)
  --users <n>           distinct users/tokens for me-many-tokens   (default 12000, more than the
                        server's verified-token cache holds, so no cache flatters it; quick 200)
  --cpu-seconds <s>     size of each fixed-count CPU measurement: the number of requests
                        the scenario served in this many seconds of warm-up (default 2;
                        quick 0.5); fixed for the whole run
  --only <a,b,…>        run only these: ${ALL_SCENARIOS.join(', ')}
                        (workers: WORKERS=2 against 1 on the real server, PostgreSQL only;
                        memory: RSS of the built server as npm start runs it, on an empty
                        DATA_DIR, after a login storm, after a restart; both not in --quick unless named;
                        pglite-thread: PGLITE_THREAD=main against worker, two bench servers,
                        PGlite only, only when named)
                        (me-unverified runs only when named: an analysis aid;
                        ${REFERENCE_SCENARIOS.join(' and ')} are bare Fastify in processes of their own)
  --cpu-prof <name>     run the server under node --cpu-prof and summarise self time
                        during that scenario's timed runs (e.g. --cpu-prof me --only baseline,me);
                        a scenario of the service, not a reference
  --out <dir>           where results go                           (default bench/results)
  --save / --no-save    save results (default: save, except with --quick)

  --instructions        a separate mode: instructions per request counted by valgrind's
                        callgrind (deterministic, unlike CPU time) for ${[...INSTRUCTION_SCENARIOS, ...REVOCATION_INSTRUCTION_SCENARIOS, ...METRICS_INSTRUCTION_SCENARIOS].join(', ')};
                        (me-metrics: me with METRICS_PORT set, against me: --only me,me-metrics)
                        ratios against the reference targets; saves instructions-<database>.{json,md}.
                        Takes --connections, --users, --only (those scenarios), --out, --save, and:
    --rounds <n>          measured windows per scenario              (default 2)
    --requests <n>        requests per measured window               (default 2000)
    --warmup-requests <n> uninstrumented warm-up requests per scenario (default 20000)
    --keep-dumps          keep callgrind's dumps (callgrind_annotate <file> shows where the
                          instructions go) and print where they are

  DATABASE_URL=postgres://…  run on PostgreSQL: a fresh database is created there and dropped
                             at the end; unset: embedded PGlite in a temporary DATA_DIR.`;

interface Options extends RunSettings {
  /** Set: run the --instructions mode with these settings instead of the load test. */
  instructions?: InstructionsSettings;
  quick: boolean;
  only?: ScenarioName[];
  cpuProf?: string;
  out: string;
  save: boolean;
}

function parseOptions(argv: string[], repoRoot: string): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      duration: { type: 'string' },
      connections: { type: 'string' },
      rounds: { type: 'string' },
      warmup: { type: 'string' },
      users: { type: 'string' },
      'cpu-seconds': { type: 'string' },
      only: { type: 'string' },
      'cpu-prof': { type: 'string' },
      out: { type: 'string' },
      save: { type: 'boolean' },
      'no-save': { type: 'boolean' },
      instructions: { type: 'boolean', default: false },
      requests: { type: 'string' },
      'warmup-requests': { type: 'string' },
      'keep-dumps': { type: 'boolean' },
      help: { type: 'boolean', short: 'h', default: false },
    },
    strict: true,
  });
  if (values.help) {
    console.log(HELP);
    process.exit(0);
  }
  const quick = values.quick ?? false;
  const number = (name: string, value: string | undefined, fallback: number, min: number) => {
    if (value === undefined) return fallback;
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed < min) throw new UsageError(`--${name} must be a number ≥ ${min}`);
    return parsed;
  };
  if (values.instructions) {
    const notHere = (['quick', 'duration', 'warmup', 'cpu-seconds', 'cpu-prof'] as const).filter((name) => values[name] !== undefined && values[name] !== false);
    if (notHere.length) throw new UsageError(`--instructions does not take ${notHere.map((name) => `--${name}`).join(', ')}`);
    const only = values.only?.split(',').map((name) => name.trim()) as InstructionsSettings['only'];
    const known: readonly string[] = [...INSTRUCTION_SCENARIOS, ...REVOCATION_INSTRUCTION_SCENARIOS, ...METRICS_INSTRUCTION_SCENARIOS];
    for (const name of only ?? []) {
      if (!known.includes(name)) throw new UsageError(`--instructions --only: one of ${known.join(', ')}`);
    }
    const connections = Math.round(number('connections', values.connections, 10, 1));
    const instructions: InstructionsSettings = {
      connections,
      requests: Math.round(number('requests', values.requests, 2000, connections)),
      warmupRequests: Math.round(number('warmup-requests', values['warmup-requests'], 20_000, connections)),
      rounds: Math.round(number('rounds', values.rounds, 2, 1)),
      users: Math.round(number('users', values.users, 12_000, 1)),
      ...(only ? { only } : {}),
      keepDumps: values['keep-dumps'] ?? false,
    };
    return {
      instructions,
      quick: false,
      duration: 0,
      connections,
      rounds: instructions.rounds,
      warmup: 0,
      users: instructions.users,
      cpuSeconds: 0,
      out: values.out ?? join(repoRoot, 'bench', 'results'),
      save: values['no-save'] ? false : (values.save ?? true),
    };
  }
  if (values.requests !== undefined || values['warmup-requests'] !== undefined || values['keep-dumps'] !== undefined) {
    throw new UsageError('--requests, --warmup-requests and --keep-dumps belong to --instructions');
  }
  const only = values.only?.split(',').map((name) => name.trim()) as ScenarioName[] | undefined;
  for (const name of only ?? []) {
    if (!ALL_SCENARIOS.includes(name)) throw new UsageError(`--only: unknown scenario ${JSON.stringify(name)}`);
  }
  const options: Options = {
    quick,
    duration: number('duration', values.duration, quick ? 1 : 8, 0.5),
    connections: Math.round(number('connections', values.connections, 10, 1)),
    rounds: Math.round(number('rounds', values.rounds, quick ? 1 : 3, 1)),
    warmup: number('warmup', values.warmup, quick ? 0.5 : 2, 0),
    users: Math.round(number('users', values.users, quick ? 200 : 12_000, 1)),
    cpuSeconds: number('cpu-seconds', values['cpu-seconds'], quick ? 0.5 : 2, 0.1),
    only,
    cpuProf: values['cpu-prof'],
    out: values.out ?? join(repoRoot, 'bench', 'results'),
    save: values['no-save'] ? false : (values.save ?? !quick),
  };
  const profilable: readonly RoundScenario[] = ROUND_SCENARIOS.filter((name) => !isReference(name));
  if (options.cpuProf && !profilable.includes(options.cpuProf as RoundScenario)) {
    throw new UsageError(`--cpu-prof: one of ${profilable.join(', ')}`);
  }
  return options;
}

class UsageError extends Error {}

const log = (line: string) => console.log(line);

function describe(name: string, r: LoadResult): string {
  const split = r.cpuUserUsPerRequest === undefined ? '' : ` (${fmt(r.cpuUserUsPerRequest)} user + ${fmt(r.cpuSystemUsPerRequest)} sys)`;
  const perf = r.instructionsPerRequest ? `, ${fmt(r.instructionsPerRequest.user / 1000)}k+${fmt(r.instructionsPerRequest.kernel / 1000)}k instr/req` : '';
  const cpu = r.cpuUsPerRequest === undefined ? '' : `, CPU ${fmt(r.cpuUsPerRequest)} µs/req${split}${perf}`;
  const other = r.otherCpuMsPerS === undefined ? '' : `, other CPU ${fmt(r.otherCpuMsPerS)} ms/s`;
  const bad = r.non2xx || r.errors ? `  !! ${r.non2xx} non-2xx, ${r.errors} errors ${r.failures.slice(0, 2).join(' | ')}` : '';
  return `  ${name.padEnd(22)} ${fmt(r.rps).padStart(8)} req/s  p50 ${fmt(r.latency.p50)} p99 ${fmt(r.latency.p99)} ms${cpu}${other}${bad}`;
}

async function main(): Promise<number> {
  const repoRoot = fileURLToPath(new URL('..', import.meta.url));
  const options = parseOptions(process.argv.slice(2), repoRoot);
  if (options.instructions) {
    const databaseUrl = process.env.DATABASE_URL?.trim() || undefined;
    return runInstructions({ ...options.instructions, repoRoot, databaseUrl, out: options.out, save: options.save, log });
  }
  const runs = (name: ScenarioName) =>
    options.only ? options.only.includes(name) : !OPTIONAL_SCENARIOS.includes(name as RoundScenario);
  const roundScenarios = ROUND_SCENARIOS.filter(runs);
  const { connections, duration } = options;
  const crowdPerConnection = options.quick ? 5 : 20;
  const logoutSeconds = options.quick ? 2 : Math.max(4, duration * 0.75);
  const started = performance.now();

  const databaseUrl = process.env.DATABASE_URL?.trim() || undefined;
  // Read before this run can replace it: refresh, login and the login storm are checked against it.
  const previousFile = join(options.out, `results-${databaseUrl ? 'postgres' : 'pglite'}.json`);
  const previous = readPreviousRun(previousFile, relative(repoRoot, previousFile) || previousFile);
  const argon2 = runs('login') ? await createArgon2Bench() : undefined;
  const server = await startServer({ repoRoot, databaseUrl, cpuProfile: Boolean(options.cpuProf), log });
  const references: Partial<Record<ReferenceScenario, ChildServer>> = {};
  const children = (): ChildServer[] => [server, ...Object.values(references)];
  /** Where a scenario's requests go: the service, or the reference server of its own. */
  const serverFor = (name: RoundScenario): ChildServer => (isReference(name) ? references[name]! : server);
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= Promise.all(children().map((child) => child.stop())).then(() => undefined));
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`\n${signal}: stopping the servers and cleaning up`);
      void stop().finally(() => process.exit(130));
    });
  }

  const rounds: RoundResult[] = [];
  const warmup: Record<string, LoadResult> = {};
  const rss: Report['server']['rssMiB'] = {};
  /** JS heap in use after each full collection, in reading order: start, after warm-up, each round. */
  const heapMiB: number[] = [];
  const profileWindows: [number, number][] = [];
  const cpuRequests: Record<string, number> = {};
  let logoutAll: LogoutAllResult | undefined;
  let revocation: RevocationResult | undefined;
  const crashed: string[] = [];
  const referenceWarnings: string[] = [];
  try {
    // RSS after a full collection: live memory, comparable between readings.
    const settledRss = async () => {
      const { heapUsed } = (await (await fetch(`${server.baseUrl}/bench/gc`, { method: 'POST' })).json()) as { heapUsed: number };
      heapMiB.push(heapUsed / 1048576);
      return rssMiB(server.pid);
    };
    // Before anything else touches it: what an operator sees once the server serves.
    rss.ready = rssMiB(server.pid);
    rss.readyPeak = peakRssMiB(server.pid);
    rss.firstStart = server.database === 'pglite';
    rss.start = await settledRss();
    const chains =
      1 +
      (runs('refresh') ? connections * (1 + 2 * options.rounds) : 0) +
      (runs('logout-all-under-load') ? connections * crowdPerConnection : 0);
    log(`seeding ${options.users} users, ${chains} refresh chains and one user with 3 devices…`);
    const fixture = await seedFixture(server, { users: options.users, chains, victimSessions: 3 });
    await preflight(fixture);

    const wanted = REFERENCE_SCENARIOS.filter((name) => roundScenarios.includes(name));
    if (wanted.length) {
      // They answer exactly what the service answers to the `me` scenario's request.
      const answer = await meAnswer(fixture);
      log(`starting the reference servers: ${wanted.join(', ')}`);
      for (const name of wanted) {
        references[name] = await startReferenceServer(name, { repoRoot, answer, log });
        referenceWarnings.push(...(await checkReference(fixture, name, references[name]!)));
      }
      for (const warning of referenceWarnings) log(`WARNING: ${warning}`);
    }

    // The server measured is the one that serves the scenario; only the service has PostgreSQL backends.
    const load = (
      target: Target,
      extra: { duration?: number; amount?: number; connections?: number; cpu?: boolean },
      on: ChildServer = server,
    ) =>
      runLoad(target, {
        baseUrl: on.baseUrl,
        connections: extra.connections ?? connections,
        ...(extra.amount ? { amount: extra.amount } : { duration: extra.duration ?? duration }),
        serverPid: on.pid,
        postgresDatabase: on === server ? server.postgresDatabase : undefined,
        perRequestCpu: extra.cpu !== false,
      });

    if (options.warmup > 0) {
      log(`warm-up: ${options.warmup} s per scenario`);
      for (const name of roundScenarios) {
        warmup[name] = await load(roundTarget(name, fixture, connections), { duration: options.warmup }, serverFor(name));
        log(describe(name, warmup[name]));
      }
    }
    rss.afterWarmup = await settledRss();
    // The fixed request count of each CPU measurement: what the scenario served in --cpu-seconds.
    const amountFrom = (rps: number) => Math.max(connections, Math.round((rps * options.cpuSeconds) / 10) * 10);
    for (const [name, result] of Object.entries(warmup)) cpuRequests[name] = amountFrom(result.rps);

    // Before the rounds: refresh-heavy, and none of the RSS readings it could disturb are compared.
    if (runs('logout-all-under-load')) {
      log('logout-all under load');
      logoutAll = await logoutAllUnderLoad(fixture, { connections, perConnection: crowdPerConnection, seconds: logoutSeconds });
      log(describe('logout-all-crowd', logoutAll.crowd));
      log(`  logout-all answered ${logoutAll.logoutAll.status} in ${fmt(logoutAll.logoutAll.tookMs)} ms`);
      for (const [i, device] of logoutAll.victim.entries()) {
        log(
          `  victim device ${i + 1}: ${device.succeededBeforeLogoutAll} refreshes before; ` +
            (device.refusal
              ? `refused (${device.refusal.status} ${device.refusal.code}) by refresh #${device.requestsUntilRefused} sent since logout-all was sent, ` +
                `answered ${fmt(device.refusal.answeredAfterLogoutAllSentMs)} ms after it was sent; ` +
                `${device.succeededAfterAck} successes sent after it answered`
              : 'NEVER refused'),
        );
      }
    }

    for (let round = 1; round <= options.rounds; round++) {
      log(`round ${round}/${options.rounds}`);
      const result: RoundResult = { round, scenarios: {} };
      for (const name of roundScenarios) {
        const profiled = options.cpuProf === name;
        const from = profiled ? await monotonicUs(server) : 0;
        const timed = await load(roundTarget(name, fixture, connections), {}, serverFor(name));
        if (profiled) profileWindows.push([from, await monotonicUs(server)]);
        cpuRequests[name] ??= amountFrom(timed.rps);
        const cpu = await load(roundTarget(name, fixture, connections), { amount: cpuRequests[name] }, serverFor(name));
        result.scenarios[name] = { timed, cpu };
        log(
          describe(name, {
            ...timed,
            cpuUsPerRequest: cpu.cpuUsPerRequest,
            cpuUserUsPerRequest: cpu.cpuUserUsPerRequest,
            cpuSystemUsPerRequest: cpu.cpuSystemUsPerRequest,
            instructionsPerRequest: cpu.instructionsPerRequest,
          }),
        );
      }
      if (argon2) {
        result.argon2 = await argon2.run(duration, connections);
        log(describe('argon2-raw', result.argon2));
      }
      if (runs('login-storm')) {
        // Where the server's CPU goes: its event-loop thread's own CPU and run-queue wait, against the whole process.
        let usage = threadUsage(server.pid);
        const idle = await load(meTarget(fixture), { connections: 1, cpu: false });
        const idleThreads = usage();
        usage = threadUsage(server.pid);
        const [probe, login] = await Promise.all([
          load(meTarget(fixture), { connections: 1, cpu: false }),
          load(loginTarget(fixture), { cpu: false }),
        ]);
        const threads = { idle: idleThreads, storm: usage() };
        result.loginStorm = { idle, probe, login, threads, rssMiB: rssMiB(server.pid) };
        rss.afterLoginStorm = result.loginStorm.rssMiB;
        log(describe('me-probe-idle', idle));
        log(describe('me-probe-storm', probe));
        log(describe('login-storm', login));
        for (const [when, t] of Object.entries(result.loginStorm.threads)) {
          log(
            `  server threads (${when}): process CPU ${fmt(t.processCpuMsPerS)} ms/s, event loop on CPU ${fmt(t.mainThreadCpuMsPerS)} ms/s, ` +
              `waiting for a CPU ${fmt(t.mainThreadWaitMsPerS)} ms/s`,
          );
        }
      }
      result.rssMiB = await settledRss();
      rounds.push(result);
    }

    rss.end = await settledRss();
    // After the last RSS reading: it adds users and servers of its own (bench/lib/revocation-bench.ts).
    if (runs('revocation')) {
      const { quick, connections, warmup, cpuSeconds, rounds } = options;
      revocation = await runRevocationBench({ repoRoot, databaseUrl, server, fixture, quick, connections, warmupSeconds: warmup, cpuSeconds, rounds, log });
    }
  } finally {
    for (const child of children()) {
      const exit = child.unexpectedExit();
      if (exit) crashed.push(`the ${child.name} ${exit} during the run`);
    }
    await stop();
  }
  // Its own servers, once the main one has stopped; in --quick only when named (it starts three processes).
  const workers = runs('workers') && (!options.quick || options.only) ? await measureWorkers({ repoRoot, databaseUrl, connections, duration, warmup: options.warmup, rounds: options.rounds, log }) : undefined;
  // Two servers of its own, after the others have stopped; only when named.
  const pgliteThread = options.only?.includes('pglite-thread')
    ? await measurePgliteThread({ repoRoot, databaseUrl, connections, duration, warmup: options.warmup, rounds: options.rounds, users: options.users, log })
    : undefined;

  // npm start's own server, on a fresh DATA_DIR or database; in --quick only when named (it builds and runs initdb).
  const memory =
    runs('memory') && (!options.quick || options.only)
      ? await measureMemory({ repoRoot, databaseUrl, connections, logins: options.quick ? 4 * connections : 20 * connections, log })
      : undefined;

  const summary = summarise(rounds, warmup, logoutAll, connections);
  const report: Report = {
    meta: {
      date: new Date().toISOString(),
      database: server.database,
      node: process.version,
      cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
      cores: cpus().length,
      platform: `${process.platform} ${process.arch}`,
      clockTicksPerSecond: CLOCK_TICKS,
      quick: options.quick,
      options: {
        duration,
        connections,
        rounds: options.rounds,
        warmup: options.warmup,
        users: options.users,
        cpuSeconds: options.cpuSeconds,
        cpuRequests,
        ...(options.only ? { only: options.only } : {}),
      },
      seconds: Math.round((performance.now() - started) / 100) / 10,
      warnings: [...crashed, ...referenceWarnings, ...interferenceWarnings(rounds, cpus().length)],
      ...(previous ? { previous } : {}),
    },
    server: { rssMiB: rss, heapUsedMiB: heapMiB },
    warmup,
    rounds,
    ...(logoutAll ? { logoutAll } : {}),
    ...(workers ? { workers } : {}),
    ...(memory ? { memory } : {}),
    ...(revocation ? { revocation } : {}),
    summary,
    targets: [],
    ok: false,
  };
  report.targets = checkTargets(report);
  report.ok =
    crashed.length === 0 &&
    summary.every((row) => !row.expectsSuccess || (row.non2xx === 0 && row.errors === 0)) &&
    (logoutAll?.ok ?? true) &&
    (revocation?.ok ?? true) &&
    (workers?.ok ?? true) &&
    (memory?.ok ?? true) &&
    (pgliteThread?.ok ?? true);
  if (options.cpuProf && server.cpuProfileDir) {
    report.profile = summariseProfile(server.cpuProfileDir, options.cpuProf, profileWindows);
  }

  log('');
  log(textReport(report));
  for (const line of pgliteThreadLines(pgliteThread)) log(line);
  if (report.profile) {
    log(`\nCPU profile during ${report.profile.scenario} (${fmt(report.profile.sampledMs)} ms sampled, ${fmt(report.profile.idlePct)}% idle): ${report.profile.file}`);
    for (const f of report.profile.top) log(`  ${f.pct.toFixed(1).padStart(5)}%  ${f.name}  ${f.location}`);
    log('  by category:');
    for (const c of report.profile.byCategory.slice(0, 12)) log(`  ${c.pct.toFixed(1).padStart(5)}%  ${c.category}`);
  }
  if (options.save) {
    const written = saveReport(report, options.out, `results-${server.database}`);
    log(`\nsaved ${written.json}, ${written.md}, ${written.svg}`);
  }
  log(`\n${report.ok ? 'OK' : 'FAILED'}: ${report.ok ? 'no errors' : 'errors or failed checks above'} (${report.meta.seconds} s)`);
  return report.ok ? 0 : 1;
}

async function monotonicUs(server: ServerProcess): Promise<number> {
  const response = await fetch(`${server.baseUrl}/bench/clock`);
  return ((await response.json()) as { monotonicUs: number }).monotonicUs;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) {
      console.error(`bench: ${error.message}\n\n${HELP}`);
      process.exit(2);
    }
    console.error('bench failed:', error);
    process.exit(1);
  },
);
