import type { LoadResult } from './load.js';
import type { LogoutAllResult } from './logout-all.js';
import type { ThreadUsage } from './proc.js';
import { previousLine, regressionChecks, type PreviousRun } from './previous.js';
import type { ProfileSummary } from './profile.js';
import type { RevocationResult } from './revocation-bench.js';
import { revocationMarkdown, revocationTargets, revocationText } from './revocation-report.js';
import { DESCRIPTIONS, isReference, ROUND_SCENARIOS, type RoundScenario } from './scenarios.js';
import { median, sum } from './stats.js';
import type { MemoryResult } from './memory.js';
import { workersLines, workersMarkdown, type WorkersResult } from './workers.js';

export interface RoundResult {
  round: number;
  /** Per scenario: the timed run (throughput, latency) and the fixed-count run (CPU per request). */
  scenarios: Partial<Record<RoundScenario, { timed: LoadResult; cpu: LoadResult }>>;
  argon2?: LoadResult;
  /** Server RSS at the end of the round. */
  rssMiB?: number;
  loginStorm?: {
    idle: LoadResult;
    probe: LoadResult;
    login: LoadResult;
    threads: { idle: ThreadUsage; storm: ThreadUsage };
    /** Server RSS right after the storm, without a collection first: what argon2's threads leave resident. */
    rssMiB?: number;
  };
}

export interface Row {
  scenario: string;
  description: string;
  /** Rounds the medians are taken over. */
  rounds: number;
  connections: number;
  rps?: number;
  p50?: number;
  p97_5?: number;
  p99?: number;
  non2xx: number;
  errors: number;
  cpuUsPerRequest?: number;
  cpuUserUsPerRequest?: number;
  cpuSystemUsPerRequest?: number;
  /** PostgreSQL backends' CPU per request (PostgreSQL only). */
  dbCpuUsPerRequest?: number;
  /** Server instructions per request in thousands, user-space + kernel (where perf counts them). */
  kInstructionsPerRequest?: { user: number; kernel: number };
  /** CPU used by everything but the server and the runner (PostgreSQL, other processes), ms/s, during the timed runs. */
  otherCpuMsPerS?: number;
  /** Ratios of this row's medians to baseline's. */
  vsBaseline?: { rps?: number; p99?: number; cpu?: number };
  /** Only report, never a failure, when non-2xx are expected. */
  expectsSuccess: boolean;
}

export type TargetStatus = 'met' | 'missed' | 'n/a';

export interface TargetCheck {
  name: string;
  /** e.g. 0.91 for a ratio; undefined when not measured. */
  value?: number;
  actual: string;
  threshold: string;
  status: TargetStatus;
  note?: string;
}

/** The knobs of a run that shape its figures: set by bench/run.ts's flags, recorded in the report. */
export interface RunSettings {
  duration: number;
  connections: number;
  rounds: number;
  warmup: number;
  users: number;
  cpuSeconds: number;
}

export interface Report {
  meta: {
    date: string;
    database: 'pglite' | 'postgres';
    node: string;
    cpu: string;
    cores: number;
    platform: string;
    clockTicksPerSecond: number;
    quick: boolean;
    options: RunSettings & {
      /** The fixed request count of each scenario's CPU measurement. */
      cpuRequests: Record<string, number>;
      only?: string[];
    };
    seconds: number;
    /** Conditions that make this run's figures less trustworthy (e.g. other work on the machine). */
    warnings: string[];
    /** The previous report on this database, as read before this run replaced it: what the regression checks compare with. */
    previous?: PreviousRun;
  };
  server: {
    rssMiB: {
      /** As soon as the server serves, before any collection: what `npm start` shows. */
      ready?: number;
      /** The server's peak RSS (VmHWM) up to then. */
      readyPeak?: number;
      /** Whether that start created the embedded database (an empty DATA_DIR); false on PostgreSQL. */
      firstStart?: boolean;
      /** Right after the last round's login storm, before any collection. */
      afterLoginStorm?: number;
      start?: number;
      afterWarmup?: number;
      end?: number;
    };
    /** JS heap in use after a full collection, at each RSS reading (start, after warm-up, each round, end). */
    heapUsedMiB?: number[];
  };
  warmup: Record<string, LoadResult>;
  rounds: RoundResult[];
  logoutAll?: LogoutAllResult;
  /** Logout-all on one instance to refusal on another, the check's cost, a window's memory (bench/lib/revocation-bench.ts). */
  revocation?: RevocationResult;
  /** WORKERS=2 against WORKERS=1 (bench/lib/workers.ts). */
  workers?: WorkersResult;
  /** RSS of the server as `npm start` runs it (bench/lib/memory.ts). */
  memory?: MemoryResult;
  summary: Row[];
  targets: TargetCheck[];
  /** Every scenario that expects success saw zero non-2xx and zero errors, and logout-all behaved. */
  ok: boolean;
  profile?: ProfileSummary;
}

const pick = <T>(values: (T | undefined)[]) => values.filter((value): value is T => value !== undefined);

function rowFrom(scenario: string, timed: LoadResult[], cpu: LoadResult[], connections: number, extra: LoadResult[] = []): Row {
  const all = [...new Set([...timed, ...cpu, ...extra])];
  return {
    scenario,
    description: DESCRIPTIONS[scenario] ?? scenario,
    rounds: timed.length,
    connections,
    rps: median(timed.map((r) => r.rps)),
    p50: median(timed.map((r) => r.latency.p50)),
    p97_5: median(timed.map((r) => r.latency.p97_5)),
    p99: median(timed.map((r) => r.latency.p99)),
    non2xx: sum(all.map((r) => r.non2xx)),
    errors: sum(all.map((r) => r.errors)),
    cpuUsPerRequest: median(cpu.map((r) => r.cpuUsPerRequest)),
    cpuUserUsPerRequest: median(cpu.map((r) => r.cpuUserUsPerRequest)),
    cpuSystemUsPerRequest: median(cpu.map((r) => r.cpuSystemUsPerRequest)),
    dbCpuUsPerRequest: median(cpu.map((r) => r.dbCpuUsPerRequest)),
    kInstructionsPerRequest: kInstructions(cpu),
    otherCpuMsPerS: median(timed.map((r) => r.otherCpuMsPerS)),
    expectsSuccess: true,
  };
}

function kInstructions(runs: LoadResult[]): Row['kInstructionsPerRequest'] {
  const user = median(runs.map((r) => r.instructionsPerRequest && r.instructionsPerRequest.user / 1000));
  const kernel = median(runs.map((r) => r.instructionsPerRequest && r.instructionsPerRequest.kernel / 1000));
  return user === undefined || kernel === undefined ? undefined : { user, kernel };
}

/** Medians per scenario over the rounds; warm-up runs count toward non-2xx and errors. */
export function summarise(
  rounds: RoundResult[],
  warmup: Record<string, LoadResult>,
  logoutAll: LogoutAllResult | undefined,
  connections: number,
): Row[] {
  const rows: Row[] = [];
  for (const name of ROUND_SCENARIOS) {
    const phases = pick(rounds.map((round) => round.scenarios[name]));
    if (phases.length === 0) continue;
    rows.push(rowFrom(name, phases.map((p) => p.timed), phases.map((p) => p.cpu), connections, pick([warmup[name]])));
  }
  const argon2 = pick(rounds.map((round) => round.argon2));
  if (argon2.length) rows.push(rowFrom('argon2-raw', argon2, argon2, connections));
  const storms = pick(rounds.map((round) => round.loginStorm));
  if (storms.length) {
    rows.push(rowFrom('me-probe-idle', storms.map((s) => s.idle), [], 1));
    rows.push(rowFrom('me-probe-storm', storms.map((s) => s.probe), [], 1));
    rows.push(rowFrom('login-storm', storms.map((s) => s.login), [], connections));
  }
  if (logoutAll) rows.push(rowFrom('logout-all-crowd', [logoutAll.crowd], [], logoutAll.connections));

  const baseline = rows.find((row) => row.scenario === 'baseline');
  const ratio = (a?: number, b?: number) => (a !== undefined && b ? a / b : undefined);
  for (const row of rows) {
    // The 1-connection probes and argon2 outside the server are not comparable with baseline.
    if (!baseline || ['argon2-raw', 'me-probe-idle', 'me-probe-storm'].includes(row.scenario)) continue;
    row.vsBaseline = {
      rps: ratio(row.rps, baseline.rps),
      p99: ratio(row.p99, baseline.p99),
      cpu: ratio(row.cpuUsPerRequest, baseline.cpuUsPerRequest),
    };
  }
  return rows;
}

export function checkTargets(report: Pick<Report, 'summary' | 'server' | 'logoutAll' | 'meta' | 'rounds' | 'revocation' | 'memory'>): TargetCheck[] {
  const row = (name: string) => report.summary.find((r) => r.scenario === name);
  const checks: TargetCheck[] = [];
  const ratioTarget = (name: string, a: number | undefined, b: number | undefined, min: number, unit: string, note?: string) => {
    const value = a !== undefined && b ? a / b : undefined;
    checks.push({
      name,
      value,
      actual: value === undefined ? 'not measured' : `${value.toFixed(2)}×`,
      threshold: `≥ ${min}×`,
      status: value === undefined ? 'n/a' : value >= min ? 'met' : 'missed',
      note: note ?? (value !== undefined ? unit : 'not run'),
    });
  };
  const rps = (name: string) => row(name)?.rps;
  ratioTarget('me ≥ 0.85 × baseline', rps('me'), rps('baseline'), 0.85, 'req/s');
  ratioTarget('me-many-tokens ≥ 0.80 × baseline', rps('me-many-tokens'), rps('baseline'), 0.8, 'req/s');
  // Against Fastify without this project: CPU per request, reference ÷ ours (higher is better for us).
  const cpu = (name: string) => row(name)?.cpuUsPerRequest;
  const cpuTarget = (name: string, reference: string, ours: string, min: number) => {
    const value = cpu(reference) !== undefined && cpu(ours) ? cpu(reference)! / cpu(ours)! : undefined;
    checks.push({
      name,
      value,
      actual: value === undefined ? 'not measured' : `${value.toFixed(2)}× (${reference} ${fmt(cpu(reference))} ÷ ${ours} ${fmt(cpu(ours))} µs/req)`,
      threshold: `≥ ${min}×`,
      status: value === undefined ? 'n/a' : value >= min ? 'met' : 'missed',
      note: value === undefined ? 'not run' : 'CPU µs/req',
    });
  };
  cpuTarget('me ≥ 0.75 × fastify-bare (CPU/req)', 'fastify-bare', 'me', 0.75);
  cpuTarget('me ≥ 0.80 × fastify-bare (CPU/req, stretch)', 'fastify-bare', 'me', 0.8);
  cpuTarget('me ≥ 0.90 × fastify-service (CPU/req)', 'fastify-service', 'me', 0.9);
  cpuTarget('me-many-tokens ≥ 0.65 × fastify-bare (CPU/req)', 'fastify-bare', 'me-many-tokens', 0.65);
  cpuTarget('/health (baseline) ≥ 0.95 × fastify-service (CPU/req)', 'fastify-service', 'baseline', 0.95);
  ratioTarget('me ≥ 2 × session-lookup', rps('me'), rps('session-lookup'), 2, 'req/s');
  const refreshValue = rps('refresh') !== undefined && rps('session-lookup') ? rps('refresh')! / rps('session-lookup')! : undefined;
  if (report.meta.database === 'postgres') {
    ratioTarget('refresh ≥ 0.5 × session-lookup', rps('refresh'), rps('session-lookup'), 0.5, 'req/s (PostgreSQL)');
  } else {
    checks.push({
      name: 'refresh ≥ 0.5 × session-lookup',
      value: refreshValue,
      actual: refreshValue === undefined ? 'not measured' : `${refreshValue.toFixed(2)}×`,
      threshold: 'PostgreSQL only',
      status: 'n/a',
      note: 'reported without target on PGlite',
    });
  }
  ratioTarget('login ≥ 0.8 × raw parallel argon2 verify', rps('login'), rps('argon2-raw'), 0.8, 'req/s vs verifies/s');

  const idle = row('me-probe-idle')?.p99;
  const storm = row('me-probe-storm')?.p99;
  const stormRatio = idle !== undefined && storm !== undefined && idle > 0 ? storm / idle : undefined;
  checks.push({
    name: '/me p99 during login-storm ≤ 3 × idle p99',
    value: stormRatio,
    actual: stormRatio === undefined ? 'not measured' : `${stormRatio.toFixed(2)}× (${fmtMs(storm)} vs ${fmtMs(idle)} ms)`,
    threshold: '≤ 3×',
    status: stormRatio === undefined ? 'n/a' : stormRatio <= 3 ? 'met' : 'missed',
  });
  checks.push(...regressionChecks(report));

  const expecting = report.summary.filter((r) => r.expectsSuccess);
  const failing = expecting.filter((r) => r.non2xx > 0 || r.errors > 0);
  checks.push({
    name: 'zero non-2xx and zero errors where success is expected',
    value: failing.length,
    actual: failing.length
      ? failing.map((r) => `${r.scenario}: ${r.non2xx} non-2xx, ${r.errors} errors`).join('; ')
      : `0 in ${expecting.length} scenarios`,
    threshold: '0',
    status: failing.length ? 'missed' : 'met',
  });

  if (report.logoutAll) {
    const { victim, crowd, ok } = report.logoutAll;
    const worst = Math.max(...victim.map((v) => v.requestsUntilRefused ?? Infinity));
    const slowest = Math.max(...victim.map((v) => v.refusal?.answeredAfterLogoutAllSentMs ?? Infinity));
    const late = sum(victim.map((v) => v.succeededAfterAck));
    checks.push({
      name: 'logout-all under load: next refresh refused, others unaffected',
      value: late,
      actual:
        `${victim.length} devices refused by refresh #${worst} at most, ≤ ${fmtMs(slowest)} ms after logout-all was sent; ` +
        `${late} successes after it answered; others: ${crowd.non2xx} non-2xx, ${crowd.errors} errors`,
      threshold: 'next request, 0 errors',
      status: ok ? 'met' : 'missed',
    });
  }

  // The reference is the reading after the first round when there are several: by then every
  // scenario, the login storm included, has run once, so glibc's per-thread arenas hold
  // argon2's 19 MiB blocks at their working size. After the short warm-up they swing by tens
  // of MiB either way while the JS heap stays flat.
  const { afterWarmup, end } = report.server.rssMiB;
  const firstRound = report.rounds.length > 1 ? report.rounds[0]?.rssMiB : undefined;
  const reference = firstRound ?? afterWarmup;
  const drift = reference && end ? end / reference - 1 : undefined;
  checks.push({
    name: `server RSS at the end within 10% of ${firstRound ? 'after the first round' : 'after warm-up'} (no leak)`,
    value: drift,
    actual: drift === undefined ? 'not measured' : `${fmt(reference)} → ${fmt(end)} MiB (${drift >= 0 ? '+' : ''}${(drift * 100).toFixed(1)}%)`,
    threshold: '±10%',
    status: drift === undefined ? 'n/a' : Math.abs(drift) <= 0.1 ? 'met' : 'missed',
  });
  checks.push(...memoryTargets(report));
  if (report.revocation) checks.push(...revocationTargets(report.revocation));
  return checks;
}

/**
 * The memory targets of issue 14, on the server as `npm start` runs it (the `memory`
 * scenario, bench/lib/memory.ts): the embedded database's first start ≤ 300 MiB, and a
 * server ≤ 100 MiB on PostgreSQL, ≤ 250 MiB embedded, also once it has served (after the
 * login storm, when argon2's threads have had their blocks). Readings without a collection first.
 */
function memoryTargets(report: Pick<Report, 'memory' | 'meta'>): TargetCheck[] {
  const memory = report.memory;
  const postgres = report.meta.database === 'postgres';
  const check = (name: string, value: number | undefined, max: number): TargetCheck => ({
    name: `${name} ≤ ${max} MiB`,
    value,
    actual: value === undefined ? 'not measured' : `${fmt(value)} MiB`,
    threshold: `≤ ${max} MiB`,
    status: value === undefined ? 'n/a' : value <= max ? 'met' : 'missed',
    note: memory ? memory.error ?? 'not measured' : 'memory not run',
  });
  const idle = postgres ? 100 : 250;
  return [
    check(postgres ? 'npm start RSS after start' : 'npm start RSS after a first start (empty DATA_DIR)', memory?.start, postgres ? 100 : 300),
    check('npm start RSS after the login storm', memory?.afterLoginStorm, idle),
    ...(postgres ? [] : [check('npm start RSS after a restart', memory?.restart, idle)]),
  ];
}

// ---------------------------------------------------------------- formatting

export function fmt(value: number | undefined): string {
  if (value === undefined || !Number.isFinite(value)) return '–';
  if (Math.abs(value) >= 100) return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(2);
}
const fmtMs = (value: number | undefined) => fmt(value);
/** A ratio with two decimals, or two significant digits below 0.1 (login is ~0.005× baseline). */
export const fmtRatio = (value: number | undefined) =>
  value === undefined ? '–' : `${value >= 0.1 || value === 0 ? value.toFixed(2) : value.toPrecision(2)}×`;

/** The scenario table's columns; the PostgreSQL backends' CPU only where it was measured. */
function columns(rows: Row[]): { title: string; cell: (row: Row) => string }[] {
  const all = [
    { title: 'scenario', cell: (r: Row) => r.scenario },
    { title: 'conns', cell: (r: Row) => String(r.connections) },
    { title: 'req/s', cell: (r: Row) => fmt(r.rps) },
    { title: 'p50 ms', cell: (r: Row) => fmt(r.p50) },
    { title: 'p97.5 ms', cell: (r: Row) => fmt(r.p97_5) },
    { title: 'p99 ms', cell: (r: Row) => fmt(r.p99) },
    { title: 'non-2xx', cell: (r: Row) => String(r.non2xx) },
    { title: 'errors', cell: (r: Row) => String(r.errors) },
    { title: 'CPU µs/req', cell: (r: Row) => fmt(r.cpuUsPerRequest) },
    {
      title: 'user+sys',
      cell: (r: Row) => (r.cpuUserUsPerRequest === undefined ? '–' : `${fmt(r.cpuUserUsPerRequest)}+${fmt(r.cpuSystemUsPerRequest)}`),
    },
    { title: 'PG µs/req', cell: (r: Row) => fmt(r.dbCpuUsPerRequest), db: true },
    {
      title: 'k instr/req',
      cell: (r: Row) => (r.kInstructionsPerRequest ? `${fmt(r.kInstructionsPerRequest.user)}+${fmt(r.kInstructionsPerRequest.kernel)}` : '–'),
      perf: true,
    },
    { title: 'req/s ×base', cell: (r: Row) => fmtRatio(r.vsBaseline?.rps) },
    { title: 'p99 ×base', cell: (r: Row) => fmtRatio(r.vsBaseline?.p99) },
    { title: 'CPU ×base', cell: (r: Row) => fmtRatio(r.vsBaseline?.cpu) },
    { title: 'other CPU ms/s', cell: (r: Row) => fmt(r.otherCpuMsPerS) },
  ];
  const withDb = rows.some((r) => r.dbCpuUsPerRequest !== undefined);
  const withPerf = rows.some((r) => r.kInstructionsPerRequest !== undefined);
  return all.filter((c) => (!('db' in c) || withDb) && (!('perf' in c) || withPerf));
}

const MARK: Record<TargetStatus, string> = { met: 'MET', missed: 'MISSED', 'n/a': 'n/a' };

/** The plain-text table printed at the end of a run. */
export function textReport(report: Report): string {
  const cols = columns(report.summary);
  const titles = cols.map((c) => c.title);
  const body = report.summary.map((row) => cols.map((c) => c.cell(row)));
  const widths = titles.map((title, i) => Math.max(title.length, ...body.map((r) => r[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => (i === 0 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ');
  const out = [
    header(report),
    ...report.meta.warnings.map((w) => `WARNING: ${w}`),
    '',
    line(titles),
    line(widths.map((w) => '-'.repeat(w))),
    ...body.map(line),
    '',
    'targets:',
    ...report.targets.map((t) => `  [${MARK[t.status].padEnd(6)}] ${t.name}: ${t.actual}${t.note && t.status === 'n/a' ? ` (${t.note})` : ''}`),
    ...previousLine(report.meta),
    '',
    memoryLine(report),
    `server RSS after a full collection: start ${fmt(report.server.rssMiB.start)} MiB, after warm-up ${fmt(report.server.rssMiB.afterWarmup)} MiB, ` +
      `after each round ${report.rounds.map((r) => fmt(r.rssMiB)).join(', ')} MiB, end ${fmt(report.server.rssMiB.end)} MiB`,
    ...(report.revocation ? revocationText(report.revocation) : []),
    ...workersLines(report.workers),
  ];
  return out.join('\n');
}

function header(report: Report): string {
  const { meta } = report;
  const db = meta.database === 'postgres' ? 'PostgreSQL' : 'PGlite';
  return (
    `versioned-auth bench on ${db}${meta.quick ? ' (quick smoke run)' : ''}: ${meta.options.rounds} interleaved round(s) × ` +
    `${meta.options.duration} s per scenario, ${meta.options.connections} connections, medians; ` +
    `${meta.cores} × ${meta.cpu}, node ${meta.node}, ${meta.date}`
  );
}

/** The Markdown report saved next to the JSON (generated from it). */
export function markdownReport(report: Report, svgName?: string): string {
  const { meta } = report;
  const db = meta.database === 'postgres' ? 'PostgreSQL' : 'PGlite';
  // Numbers right-aligned; `leftColumns` columns (text) left-aligned.
  const table = (rows: string[][], heads: string[], leftColumns = 1) =>
    [
      `| ${heads.join(' | ')} |`,
      `| ${heads.map((_, i) => (i < leftColumns ? '---' : '---:')).join(' | ')} |`,
      ...rows.map((r) => `| ${r.join(' | ')} |`),
    ].join('\n');
  const parts = [
    `# Load test on ${db}`,
    '',
    header(report) + '.',
    '',
    ...report.meta.warnings.map((w) => `> **Warning:** ${w}\n`),
    'Generated by `npm run bench` (bench/run.ts) from the JSON next to this file; do not edit by hand.',
    '',
    ...(svgName ? [`![requests per second and CPU per request, ${db}](${svgName})`, ''] : []),
    '## Scenarios',
    '',
    table(
      report.summary.map((row) => columns(report.summary).map((c, i) => (i === 0 ? `\`${c.cell(row)}\`` : c.cell(row)))),
      columns(report.summary).map((c) => c.title),
    ),
    '',
    'Latency percentiles are from every response\'s own timing (sub-millisecond); req/s and latency are medians of the timed runs; ' +
      'CPU µs/req is the server process\'s user + system time (/proc/<pid>/stat) over a fixed number of requests, median over rounds ' +
      '(for `argon2-raw`, the runner\'s own CPU per verify), split into user and system (kernel) time. ' +
      '"other CPU" is what the rest of the machine used during the timed runs (PostgreSQL when it is the database, and anything else running), ' +
      'in ms per second of wall time (2 cores = 2000). non-2xx and errors are totals over every run of the scenario, warm-up included.',
    '',
    table(
      report.summary.map((r) => [`\`${r.scenario}\``, r.description]),
      ['scenario', 'what it does'],
      2,
    ),
    '',
    '## Targets',
    '',
    table(
      report.targets.map((t) => [t.name, t.actual, t.threshold, t.status === 'met' ? '✅ met' : t.status === 'missed' ? '❌ missed' : `n/a${t.note ? ` (${t.note})` : ''}`]),
      ['target', 'measured', 'threshold', 'status'],
      4,
    ),
    '',
    ...(report.summary.some((row) => isReference(row.scenario))
      ? [
          'The `fastify-*` targets are ratios of CPU per request, medians over rounds: the reference server\'s µs/req ÷ ours, so higher is better for us. ' +
            'The `× baseline`, `× session-lookup` and argon2 targets are ratios of req/s.',
          '',
        ]
      : []),
    ...previousLine(report.meta).flatMap((line) => [line, '']),
  ];
  const storms = pick(report.rounds.map((round) => round.loginStorm));
  if (storms.length) {
    const m = (f: (s: (typeof storms)[number]) => number | undefined) => fmt(median(storms.map(f)));
    parts.push(
      '## Login storm',
      '',
      `A 1-connection closed-loop \`GET /me\` probe, first with the server otherwise idle, then while ${report.meta.options.connections} ` +
        'connections log in as fast as the server allows. Where the server process spends its time (medians over rounds; ' +
        'main thread = the event loop, from /proc/<pid>/task/<pid>/schedstat):',
      '',
      table(
        [
          ['idle', m((s) => s.idle.latency.p50), m((s) => s.idle.latency.p99), '–', m((s) => s.threads.idle.processCpuMsPerS), m((s) => s.threads.idle.mainThreadCpuMsPerS), m((s) => s.threads.idle.mainThreadWaitMsPerS)],
          ['login storm', m((s) => s.probe.latency.p50), m((s) => s.probe.latency.p99), m((s) => s.login.rps), m((s) => s.threads.storm.processCpuMsPerS), m((s) => s.threads.storm.mainThreadCpuMsPerS), m((s) => s.threads.storm.mainThreadWaitMsPerS)],
        ],
        ['/me probe', 'p50 ms', 'p99 ms', 'logins/s', 'process CPU ms/s', 'event-loop thread CPU ms/s', 'event-loop thread waiting for a CPU, ms/s'],
      ),
      '',
    );
  }
  if (report.logoutAll) {
    const l = report.logoutAll;
    parts.push(
      '## Logout-everywhere under load',
      '',
      `${l.users} users refreshing on ${l.connections} connections for ${l.seconds} s; one user with ${l.victim.length} devices refreshing in a loop on each. ` +
        `\`POST /auth/logout-all\` answered ${l.logoutAll.status} in ${fmt(l.logoutAll.tookMs)} ms.`,
      '',
      table(
        l.victim.map((v, i) => [
          `device ${i + 1}`,
          String(v.succeededBeforeLogoutAll),
          v.requestsUntilRefused === undefined ? 'never' : `#${v.requestsUntilRefused}`,
          v.refusal ? `${v.refusal.status} ${v.refusal.code ?? ''}` : '–',
          fmt(v.refusal?.answeredAfterLogoutAllSentMs),
          String(v.succeededAfterAck),
        ]),
        [
          'victim device',
          'refreshes before',
          'refused by refresh (counted from logout-all sent)',
          'refusal',
          'refused, ms after logout-all sent',
          'successes sent after logout-all answered',
        ],
      ),
      '',
      `Other users: ${l.crowd.requests} refreshes, ${l.crowd.non2xx} non-2xx, ${l.crowd.errors} errors.`,
      '',
    );
  }
  if (report.revocation) parts.push(...revocationMarkdown(report.revocation));
  parts.push(...workersMarkdown(report.workers));
  parts.push(
    '## Server memory',
    '',
    `${memoryLine(report)}.`,
    '',
    `After a full collection: RSS at start ${fmt(report.server.rssMiB.start)} MiB, after warm-up ${fmt(report.server.rssMiB.afterWarmup)} MiB, ` +
      `after each round ${report.rounds.map((r) => fmt(r.rssMiB)).join(', ')} MiB, at the end ${fmt(report.server.rssMiB.end)} MiB. ` +
      'Every reading follows a full garbage collection. ' +
      `JS heap in use at the same readings: ${(report.server.heapUsedMiB ?? []).map((v) => fmt(v)).join(', ')} MiB. ` +
      'The leak check compares the end with the reading after the first round (after warm-up when there is one round): ' +
      'each argon2id hash takes 19 MiB on a libuv thread, and glibc\'s per-thread arenas keep or return those blocks, ' +
      'which swings RSS by tens of MiB while the JS heap stays flat.',
    '',
  );
  if (report.profile) {
    parts.push(
      `## CPU profile of the server during \`${report.profile.scenario}\``,
      '',
      `${fmt(report.profile.sampledMs)} ms of samples in the scenario's timed runs (${fmt(report.profile.idlePct)}% idle). Self time, share of non-idle:`,
      '',
      table(report.profile.top.map((f) => [`\`${f.name}\``, f.location, `${f.pct.toFixed(1)}%`]), ['function', 'where', 'self'], 2),
      '',
      table(report.profile.byCategory.map((c) => [c.category, `${c.pct.toFixed(1)}%`]), ['category', 'self']),
      '',
    );
  }
  return parts.join('\n');
}

/** Warns when something outside the benchmark used a sizeable share of the cores while it measured. */
export function interferenceWarnings(rounds: RoundResult[], cores: number): string[] {
  const others = rounds
    .flatMap((round) => Object.values(round.scenarios).map((phase) => phase.timed.otherCpuMsPerS))
    .filter((v): v is number => v !== undefined);
  const busy = others.filter((v) => v > 150);
  if (busy.length === 0) return [];
  return [
    `other processes used CPU during ${busy.length} of ${others.length} timed runs (up to ${fmt(Math.max(...busy))} ms/s ` +
      `of the ${cores * 1000} ms/s the machine has): those runs are slower than they should be; ` +
      `the medians over rounds absorb an occasional one, but rerun on a quiet machine if many are affected.`,
  ];
}

/** RSS as the operator sees it: `npm start`'s server (the memory scenario), then the bench server's own readings. */
function memoryLine(report: Pick<Report, 'server' | 'meta' | 'memory'>): string {
  const m = report.memory;
  const npmStart = m
    ? `npm start RSS: after ${m.database === 'pglite' ? 'a first start on an empty DATA_DIR' : 'start'} ${fmt(m.start)} MiB (peak ${fmt(m.startPeak)} MiB, ` +
      `${fmt(m.startSeconds)} s), after ${m.logins} logins ${fmt(m.afterLoginStorm)} MiB` +
      (m.restart === undefined ? '' : `, after a restart ${fmt(m.restart)} MiB`) +
      '; '
    : '';
  const { ready, afterLoginStorm } = report.server.rssMiB;
  return (
    `${npmStart}bench server (under tsx, whose loader thread npm start does not have) after start ${fmt(ready)} MiB, ` +
    `after the login storm ${fmt(afterLoginStorm)} MiB; no collection before these readings`
  );
}
