/**
 * `npm run bench -- --instructions`: instructions per request, counted by valgrind's callgrind,
 * for GET /me on the service and on the reference servers, and GET /health. CPU time per
 * request swings by ±20% between runs on a shared 2-core VM and `perf` has no instruction
 * counter there; callgrind counts the same instructions for the same work, run after run.
 *
 * 1. The bench server starts WITHOUT valgrind on a fresh DATA_DIR or temporary database (as
 *    in a normal run), gets its users and tokens seeded, passes the preflight, and stops.
 * 2. One server at a time starts under callgrind with instrumentation off (the same bench
 *    server: same environment, DATA_DIR or database, keys; then each reference server), is
 *    warmed up and measured at once, and stops.
 * 3. Per scenario: an uninstrumented warm-up of a fixed number of requests, then `--rounds`
 *    windows of `--requests` requests each, each bracketed by `callgrind_control -i on` /
 *    `-i off` and dumped, all on the same keep-alive connections (bench/lib/keepalive-client.ts).
 *    A window into which V8's full mark-compact collection fell, or in which V8 recompiled
 *    code (after such a collection), is shown, not counted, and replaced by one more (at most
 *    three more per scenario).
 * 4. Every response must be 2xx; ratios reference ÷ ours against the issue's targets;
 *    bench/results/instructions-<pglite|postgres>.{json,md}. See bench/README.md.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ACCESS_CACHE_SIZE } from '../../src/tokens/index.js';
import { createCallgrind, valgrindVersion, type Callgrind, type Dump } from './callgrind.js';
import { compareWithService, meAnswer, preflight, recordMeAnswer, seedFixture, type Fixture, type RecordedAnswer } from './fixture.js';
import type { MeAnswer } from '../reference/apps.js';
import { instructionsMarkdown, instructionsText, instructionTargets, type InstructionsReport, type ScenarioInstructions, type Window } from './instructions-report.js';
import { keepAliveClient, type ClientRun } from './keepalive-client.js';
import { writeAtomic } from './output.js';
import { fmt } from './report.js';
import { DESCRIPTIONS, REFERENCE_SCENARIOS, roundTarget } from './scenarios.js';
import { median } from './stats.js';
import { REVOCATION_INSTRUCTION_SCENARIOS, revocationGroups, type RevocationInstructionScenario } from './revocation-instructions.js';
import { METRICS_INSTRUCTION_SCENARIOS, metricsGroups, type MetricsInstructionScenario } from './metrics-instructions.js';
import { prepareServer, spawnBenchServer, startReferenceServer, type ChildServer, type ServerProcess, type ServerSetup } from './server-process.js';

/** What the mode measures, in this order. */
export const INSTRUCTION_SCENARIOS = ['baseline', 'me', 'me-many-tokens', ...REFERENCE_SCENARIOS] as const;
export type InstructionScenario = (typeof INSTRUCTION_SCENARIOS)[number];
const SERVICE_SCENARIOS: readonly InstructionScenario[] = ['baseline', 'me', 'me-many-tokens'];

/** A window whose full-GC share is above this is flagged, not counted, and measured again. */
const MAJOR_GC_SHARE = 0.02;
/**
 * Likewise a window whose optimising-compiler share is above this: V8 recompiling what a
 * full GC before it threw away (steady windows have 0.00–0.01%).
 */
const COMPILER_SHARE = 0.01;
/** At most this many extra windows per scenario replace flagged ones. */
const EXTRA_WINDOWS = 3;

export interface InstructionsSettings {
  connections: number;
  /** Requests per measured window. */
  requests: number;
  /** Uninstrumented requests per scenario before its first window. */
  warmupRequests: number;
  /** Measured windows per scenario (more replace those with a full GC). */
  rounds: number;
  users: number;
  only?: (InstructionScenario | RevocationInstructionScenario | MetricsInstructionScenario)[];
  /** Keep callgrind's dumps (for callgrind_annotate) instead of deleting them at the end. */
  keepDumps?: boolean;
}

export interface InstructionsOptions extends InstructionsSettings {
  repoRoot: string;
  databaseUrl?: string;
  out: string;
  save: boolean;
  log: (line: string) => void;
}

export async function runInstructions(options: InstructionsOptions): Promise<number> {
  const { log, connections } = options;
  const started = performance.now();
  const elapsed = () => `${Math.round((performance.now() - started) / 1000)} s`;
  const valgrind = valgrindVersion();
  if (!valgrind) throw new Error('--instructions needs valgrind and callgrind_control on PATH (apt package valgrind)');
  const wanted = INSTRUCTION_SCENARIOS.filter((name) => !options.only || options.only.includes(name));
  const revocationWanted = REVOCATION_INSTRUCTION_SCENARIOS.filter((name) => !options.only || options.only.includes(name));
  const metricsWanted = METRICS_INSTRUCTION_SCENARIOS.filter((name) => !options.only || options.only.includes(name));
  const references = REFERENCE_SCENARIOS.filter((name) => wanted.includes(name));
  const serviceScenarios = SERVICE_SCENARIOS.filter((name) => wanted.includes(name));

  const dir = mkdtempSync(join(tmpdir(), 'versioned-auth-callgrind-'));
  const callgrind = createCallgrind(dir);
  const children: ChildServer[] = [];
  let setup: ServerSetup | undefined;
  let keepDir = options.keepDumps ?? false;
  let cleaning: Promise<void> | undefined;
  const cleanup = () =>
    (cleaning ??= (async () => {
      await Promise.all(children.map((child) => child.stop()));
      await setup?.cleanup();
      if (keepDir) log(`callgrind dumps and valgrind logs kept in ${dir}`);
      else rmSync(dir, { recursive: true, force: true });
    })());
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`\n${signal}: stopping the servers and cleaning up`);
      void cleanup().finally(() => process.exit(130));
    });
  }

  const scenarios: ScenarioInstructions[] = [];
  const warnings: string[] = [];
  const crashed: string[] = [];
  const noteCrashes = (child: ChildServer) => {
    const exit = child.unexpectedExit();
    if (exit) crashed.push(`the ${child.name} ${exit} during the run`);
  };
  let database: 'pglite' | 'postgres' = options.databaseUrl ? 'postgres' : 'pglite';
  try {
    setup = await prepareServer({ databaseUrl: options.databaseUrl, log });
    database = setup.database;

    // 1. Seed and mint tokens at full speed, then stop: the data and keys stay for the next start.
    log(`seeding ${options.users} users on the bench server, without valgrind…`);
    const plain = await spawnBenchServer(setup, { repoRoot: options.repoRoot, log });
    children.push(plain);
    let fixture: Fixture;
    let answer: MeAnswer;
    let ours: RecordedAnswer;
    try {
      fixture = await seedFixture(asServerProcess(plain, setup), { users: options.users, chains: 1, victimSessions: 1 });
      await preflight(fixture);
      answer = await meAnswer(fixture);
      ours = await recordMeAnswer(fixture, plain.baseUrl);
    } finally {
      await plain.stop();
      noteCrashes(plain);
      children.splice(children.indexOf(plain), 1);
    }
    log(`seeded (${elapsed()})`);
    if (options.users <= ACCESS_CACHE_SIZE && wanted.includes('me-many-tokens')) {
      warnings.push(
        `me-many-tokens rotates ${options.users} tokens, which the ${ACCESS_CACHE_SIZE}-token cache holds: its requests are not cold verifications`,
      );
    }

    // 2. One server at a time, under callgrind: started, warmed up and measured at once. A
    //    server left idle for a minute or two before its warm-up (V8's memory reducer runs on
    //    an idle heap) settles at up to 1.6× the instructions per request of one that is not.
    // The tokens minted by the first start pass on a later one and get the same answer.
    const checkService = async (server: ChildServer) => {
      const again = await recordMeAnswer(fixture, server.baseUrl);
      if (again.status !== 200 || again.body !== ours.body) {
        throw new Error(`preflight under callgrind: GET /me answered ${again.status} ${again.body}, the first start ${ours.status} ${ours.body}`);
      }
    };
    const groups: {
      label: string;
      names: InstructionScenario[];
      start: () => Promise<ChildServer>;
      check: (server: ChildServer) => Promise<void>;
      relabel?: (s: ScenarioInstructions) => ScenarioInstructions;
    }[] = [
      ...(serviceScenarios.length
        ? [
            {
              label: 'service',
              names: serviceScenarios,
              start: () => spawnBenchServer(setup!, { repoRoot: options.repoRoot, log, wrapper: callgrind.wrapper('service'), name: 'bench server (callgrind)' }),
              check: checkService,
            },
          ]
        : []),
      // ACCESS_TOKEN_REVOCATION=off, then 100k revocations reloaded (bench/lib/revocation-instructions.ts).
      ...revocationGroups(revocationWanted, setup, callgrind, { repoRoot: options.repoRoot, log }).map((group) => ({ ...group, check: checkService })),
      // METRICS_PORT set: the same me request with every metric recorded (bench/lib/metrics-instructions.ts).
      ...metricsGroups(metricsWanted, setup, callgrind, { repoRoot: options.repoRoot, log }).map((group) => ({ ...group, check: checkService })),
      ...references.map((name) => ({
        label: name,
        names: [name as InstructionScenario],
        start: () => startReferenceServer(name, { repoRoot: options.repoRoot, answer, log, wrapper: callgrind.wrapper(name) }),
        check: async (server: ChildServer) => {
          warnings.push(...compareWithService(name, ours, await recordMeAnswer(fixture, server.baseUrl)));
        },
      })),
    ];
    for (const group of groups) {
      const t0 = performance.now();
      log(`starting ${group.label} under callgrind (instrumentation off)…`);
      let server: ChildServer;
      try {
        server = await group.start();
      } catch (error) {
        throw new Error(`${String(error)}\n(valgrind's log: ${dir})`);
      }
      children.push(server);
      log(`  started in ${fmt((performance.now() - t0) / 1000)} s`);
      await group.check(server);
      const measured = await measureServer(server, group.label, group.names, fixture, callgrind, options);
      scenarios.push(...(group.relabel ? measured.map(group.relabel) : measured));
      await server.stop();
      noteCrashes(server);
      children.splice(children.indexOf(server), 1);
      log(`${group.label} done (${elapsed()})`);
    }
  } catch (error) {
    // The dumps and valgrind's own logs say what went wrong under valgrind.
    keepDir = true;
    throw error;
  } finally {
    for (const child of children) noteCrashes(child);
    await cleanup();
  }

  const order: readonly string[] = [...INSTRUCTION_SCENARIOS, ...REVOCATION_INSTRUCTION_SCENARIOS, ...METRICS_INSTRUCTION_SCENARIOS];
  scenarios.sort((a, b) => order.indexOf(a.scenario) - order.indexOf(b.scenario));
  for (const s of scenarios) {
    if (s.windows[0]?.excluded === 're-JIT') {
      warnings.push(
        `${s.scenario}: V8 was still compiling in its first window: the warm-up was probably too short (raise --warmup-requests), ` +
          `and "+ GC / re-JIT" counts that compilation too`,
      );
    }
    if (s.windows.every((w) => w.excluded)) {
      warnings.push(
        `${s.scenario}: every window had a full GC or V8 recompiling in it, so its figure counts them: ` +
          `if the compiler ran in the first windows, the warm-up was too short (raise --warmup-requests)`,
      );
    }
  }
  const report: InstructionsReport = {
    meta: {
      date: new Date().toISOString(),
      database,
      node: process.version,
      valgrind,
      cpu: cpus()[0]?.model.trim() ?? 'unknown CPU',
      cores: cpus().length,
      platform: `${process.platform} ${process.arch}`,
      options: {
        connections,
        requests: options.requests,
        warmupRequests: options.warmupRequests,
        rounds: options.rounds,
        users: options.users,
        ...(options.only ? { only: options.only } : {}),
      },
      seconds: Math.round((performance.now() - started) / 100) / 10,
      warnings: [...crashed, ...warnings],
    },
    scenarios,
    targets: [],
    ok: false,
  };
  report.targets = instructionTargets(report);
  report.ok = crashed.length === 0 && scenarios.every((s) => s.non2xx === 0 && s.errors === 0 && s.failures.length === 0);

  log('');
  log(instructionsText(report));
  if (options.save) {
    mkdirSync(options.out, { recursive: true });
    const json = join(options.out, `instructions-${database}.json`);
    const md = join(options.out, `instructions-${database}.md`);
    writeAtomic(json, JSON.stringify(report, null, 2) + '\n');
    writeAtomic(md, instructionsMarkdown(report, md));
    log(`\nsaved ${json}, ${md}`);
  }
  log(`\n${report.ok ? 'OK' : 'FAILED'}: ${report.ok ? 'every response 2xx' : 'non-2xx, errors or a crash above'} (${report.meta.seconds} s)`);
  return report.ok ? 0 : 1;
}

/**
 * Warm-up and windows of one server's scenarios, scenario after scenario, over one set of
 * keep-alive connections. Each scenario is warmed up right before its windows: alternating
 * them makes V8 deoptimise and recompile shared code at every switch, inside the windows.
 */
async function measureServer(
  server: ChildServer,
  label: string,
  names: InstructionScenario[],
  fixture: Fixture,
  callgrind: Callgrind,
  options: InstructionsOptions,
): Promise<ScenarioInstructions[]> {
  const { log, connections } = options;
  const client = keepAliveClient(server.baseUrl, connections);
  const results: ScenarioInstructions[] = [];
  try {
    for (const name of names) {
      // One target for the scenario's warm-up and windows: me-many-tokens' rotation goes on,
      // so every token's previous use is `users` requests back.
      const target = roundTarget(name, fixture, connections);
      const result: ScenarioInstructions = {
        scenario: name,
        server: label === 'service' ? 'bench server' : label,
        description: DESCRIPTIONS[name] ?? name,
        warmupRequests: options.warmupRequests,
        windows: [],
        non2xx: 0,
        errors: 0,
        failures: [],
      };
      results.push(result);
      const account = (load: ClientRun, expected: number) => {
        result.non2xx += load.non2xx;
        if (load.requests !== expected) result.failures.push(`${load.requests} of ${expected} requests completed`);
        result.failures.push(...load.failures.slice(0, Math.max(0, 3 - result.failures.length)));
      };

      const warm = await client.run(target, options.warmupRequests);
      account(warm, options.warmupRequests);
      log(`  warm-up ${name.padEnd(16)} ${options.warmupRequests} requests in ${fmt(warm.seconds)} s${badness(warm)}`);
      const measure = async () => {
        let load: ClientRun | undefined;
        const t0 = performance.now();
        const dump = await callgrind.count(server, label, async () => {
          load = await client.run(target, options.requests);
        });
        account(load!, options.requests);
        const window = toWindow(dump, load!.requests);
        result.windows.push(window);
        log(
          `  ${name.padEnd(24)} ${fmt(window.perRequest / 1000).padStart(7)}k instr/req  (${fmt(dump.instructions / 1e6)} M / ${load!.requests}; ` +
            `major GC ${pct(dump.majorGc / dump.instructions)}, compiler ${pct(dump.compiler / dump.instructions)}; ${fmt((performance.now() - t0) / 1000)} s)` +
            `${window.excluded ? `  [${window.excluded}: not counted, measured again]` : ''}${badness(load!)}`,
        );
      };
      for (let round = 1; round <= options.rounds; round++) await measure();
      for (let extra = 0; extra < EXTRA_WINDOWS && result.windows.filter((w) => !w.excluded).length < options.rounds; extra++) {
        await measure();
      }
    }
  } finally {
    client.close();
  }
  return results.map(summariseScenario);
}

/** The bench server started for seeding, as the fixture helpers expect it. */
function asServerProcess(child: ChildServer, setup: ServerSetup): ServerProcess {
  return { ...child, database: setup.database, postgresDatabase: setup.postgresDatabase, seedKey: setup.seedKey, password: setup.password };
}

function toWindow(dump: Dump, requests: number): Window {
  return {
    requests,
    instructions: dump.instructions,
    perRequest: requests > 0 ? dump.instructions / requests : 0,
    majorGc: dump.majorGc,
    compiler: dump.compiler,
    excluded:
      dump.majorGc > MAJOR_GC_SHARE * dump.instructions ? 'full GC' : dump.compiler > COMPILER_SHARE * dump.instructions ? 're-JIT' : undefined,
  };
}

/**
 * The figure of a scenario: the median of its steady windows, without a full GC or V8
 * recompiling (of all, when none is steady). What the other windows cost beyond that, spread
 * over every measured request, is the collector's (and the recompilation's) amortised share:
 * a rough figure from a collection or two.
 */
function summariseScenario(result: ScenarioInstructions): ScenarioInstructions {
  const clean = result.windows.filter((w) => !w.excluded);
  const counted = clean.length ? clean : result.windows;
  const values = counted.map((w) => w.perRequest);
  const min = Math.min(...values);
  const max = Math.max(...values);
  const perRequest = median(values);
  const requests = result.windows.reduce((total, w) => total + w.requests, 0);
  const extra = clean.length && perRequest !== undefined
    ? result.windows.filter((w) => w.excluded).reduce((total, w) => total + w.instructions - perRequest * w.requests, 0)
    : 0;
  return {
    ...result,
    perRequest,
    spread: values.length > 1 && min > 0 ? (max - min) / min : undefined,
    fullGcPerRequest: requests > 0 ? Math.max(0, extra) / requests : undefined,
  };
}

function badness(load: ClientRun): string {
  return load.non2xx ? `  !! ${load.non2xx} non-2xx ${load.failures.slice(0, 2).join(' | ')}` : '';
}

const pct = (share: number) => `${(share * 100).toFixed(share < 0.01 ? 2 : 1)}%`;

