import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { fmt, type TargetCheck } from './report.js';
import { metricsInstructionTargets } from './metrics-instructions.js';
import { revocationInstructionTargets } from './revocation-instructions.js';

/** One measured window: a fixed number of requests between `callgrind_control -i on` and `-i off`. */
export interface Window {
  requests: number;
  /** Instructions the server process executed in the window (every thread, user space). */
  instructions: number;
  perRequest: number;
  /** Of which in V8's full collector (by function name). */
  majorGc: number;
  /** Of which in V8's optimising compiler and parser (by function name). */
  compiler: number;
  /**
   * Set when the window is not steady: V8's full collector ran in it (`full GC`), or its
   * optimising compiler did (`re-JIT`, recompiling what a full GC threw away). Shown, not
   * counted in the scenario's figure.
   */
  excluded?: 'full GC' | 're-JIT';
}

export interface ScenarioInstructions {
  scenario: string;
  /** The process that served it: `bench server`, `fastify-bare`, `fastify-service`. */
  server: string;
  description: string;
  /** Uninstrumented requests before its first window. */
  warmupRequests: number;
  windows: Window[];
  /** Median instructions per request over the steady windows (`excluded` unset). */
  perRequest?: number;
  /** (max − min) / min over those windows. */
  spread?: number;
  /**
   * What the excluded windows cost beyond `perRequest`, over every measured request of the
   * scenario: the full collector's (and the recompilation after it) amortised share, rough.
   */
  fullGcPerRequest?: number;
  /** Totals over the warm-up and every window. */
  non2xx: number;
  errors: number;
  /** The first few non-2xx answers or incomplete runs. */
  failures: string[];
}

export interface InstructionsReport {
  meta: {
    date: string;
    database: 'pglite' | 'postgres';
    node: string;
    valgrind: string;
    cpu: string;
    cores: number;
    platform: string;
    options: { connections: number; requests: number; warmupRequests: number; rounds: number; users: number; only?: string[] };
    seconds: number;
    warnings: string[];
  };
  scenarios: ScenarioInstructions[];
  targets: TargetCheck[];
  /** Every response 2xx, every run complete, no server crashed. */
  ok: boolean;
}

/** The issue's targets against the reference servers, on instructions per request: reference ÷ ours. */
export function instructionTargets(report: Pick<InstructionsReport, 'scenarios'>): TargetCheck[] {
  const per = (name: string) => report.scenarios.find((s) => s.scenario === name)?.perRequest;
  const target = (name: string, reference: string, ours: string, min: number): TargetCheck => {
    const theirs = per(reference);
    const mine = per(ours);
    const value = theirs !== undefined && mine ? theirs / mine : undefined;
    return {
      name,
      value,
      actual: value === undefined ? 'not measured' : `${value.toFixed(2)}× (${reference} ${kInstr(theirs)} ÷ ${ours} ${kInstr(mine)} instr/req)`,
      threshold: `≥ ${min}×`,
      status: value === undefined ? 'n/a' : value >= min ? 'met' : 'missed',
      note: value === undefined ? 'not run' : 'instructions/req',
    };
  };
  return [
    target('me ≥ 0.75 × fastify-bare', 'fastify-bare', 'me', 0.75),
    target('me ≥ 0.80 × fastify-bare (stretch)', 'fastify-bare', 'me', 0.8),
    target('me ≥ 0.90 × fastify-service', 'fastify-service', 'me', 0.9),
    target('me-many-tokens ≥ 0.65 × fastify-bare', 'fastify-bare', 'me-many-tokens', 0.65),
    target('/health (baseline) ≥ 0.95 × fastify-service', 'fastify-service', 'baseline', 0.95),
    ...revocationInstructionTargets(per),
    ...metricsInstructionTargets(per),
  ];
}

const kInstr = (value: number | undefined) => (value === undefined ? '–' : `${fmt(value / 1000)}k`);
const pct = (value: number | undefined) => (value === undefined ? '–' : `${(value * 100).toFixed(value < 0.1 ? 2 : 1)}%`);

function windowsCell(s: ScenarioInstructions): string {
  return s.windows.map((w) => `${fmt(w.perRequest / 1000)}${w.excluded ? ` (${w.excluded})` : ''}`).join(', ');
}

function rows(report: InstructionsReport): { heads: string[]; cells: string[][] } {
  return {
    heads: ['scenario', 'server', 'k instr/req', 'windows, k instr/req each', 'spread', '+ GC / re-JIT, k/req (windows)'],
    cells: report.scenarios.map((s) => [
      s.scenario,
      s.server,
      s.perRequest === undefined ? '–' : fmt(s.perRequest / 1000),
      windowsCell(s),
      pct(s.spread),
      s.fullGcPerRequest ? `${fmt(s.fullGcPerRequest / 1000)} (${s.windows.filter((w) => w.excluded).length}/${s.windows.length})` : '0',
    ]),
  };
}

function header(report: InstructionsReport): string {
  const { meta } = report;
  const db = meta.database === 'postgres' ? 'PostgreSQL' : 'PGlite';
  const o = meta.options;
  return (
    `versioned-auth instructions per request (callgrind) on ${db}: ${o.rounds} window(s) × ${o.requests.toLocaleString('en-US')} requests per scenario ` +
    `after ${o.warmupRequests.toLocaleString('en-US')} uninstrumented warm-up requests, ${o.connections} connections, ` +
    `${o.users.toLocaleString('en-US')} tokens for me-many-tokens; ${meta.cores} × ${meta.cpu}, node ${meta.node}, ${meta.valgrind}, ${meta.date}`
  );
}

const MARK = { met: 'MET', missed: 'MISSED', 'n/a': 'n/a' } as const;

export function instructionsText(report: InstructionsReport): string {
  const { heads, cells } = rows(report);
  const widths = heads.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => (i < 2 || i === 3 ? v.padEnd(widths[i]!) : v.padStart(widths[i]!))).join('  ').trimEnd();
  return [
    header(report),
    ...report.meta.warnings.map((w) => `WARNING: ${w}`),
    '',
    line(heads),
    line(widths.map((w) => '-'.repeat(w))),
    ...cells.map(line),
    ...report.scenarios.filter((s) => s.non2xx || s.errors || s.failures.length).map((s) => `!! ${s.scenario}: ${s.non2xx} non-2xx, ${s.errors} errors ${s.failures.join(' | ')}`),
    '',
    'targets (reference ÷ ours, instructions per request; higher is better for us):',
    ...report.targets.map((t) => `  [${MARK[t.status].padEnd(6)}] ${t.name}: ${t.actual}`),
  ].join('\n');
}

const BENCH_README = fileURLToPath(new URL('../README.md', import.meta.url));

/** The markdown written to `file`, whose link to bench/README.md is relative to where it lies. */
export function instructionsMarkdown(report: InstructionsReport, file: string): string {
  const readme = relative(dirname(file), BENCH_README);
  const { meta } = report;
  const db = meta.database === 'postgres' ? 'PostgreSQL' : 'PGlite';
  const table = (body: string[][], heads: string[], leftColumns: number) =>
    [
      `| ${heads.join(' | ')} |`,
      `| ${heads.map((_, i) => (i < leftColumns ? '---' : '---:')).join(' | ')} |`,
      ...body.map((r) => `| ${r.join(' | ')} |`),
    ].join('\n');
  const { heads, cells } = rows(report);
  const o = meta.options;
  const requests = report.scenarios.map((s) => s.windows.length * o.requests).reduce((a, b) => a + b, 0);
  return [
    `# Instructions per request on ${db}`,
    '',
    header(report) + '.',
    '',
    ...meta.warnings.map((w) => `> **Warning:** ${w}\n`),
    'Generated by `npm run bench -- --instructions` (bench/run.ts, bench/lib/instructions.ts) from the JSON next to this file; do not edit by hand. ' +
      `See [the README](${readme}#instructions-per-request-callgrind) for what is counted.`,
    '',
    `**${report.ok ? 'OK' : 'FAILED'}**: ${report.ok ? 'every response was 2xx' : 'non-2xx answers, errors or a crashed server'}; ` +
      `${meta.seconds} s in all.`,
    '',
    '## Scenarios',
    '',
    table(
      cells.map((r) => [`\`${r[0]}\``, ...r.slice(1)]),
      heads,
      2,
    ),
    '',
    `Instructions executed by the server process (user space, every thread: event loop, V8's JIT code, compiler and GC threads, libuv, OpenSSL), ` +
      `counted by valgrind's callgrind over a fixed number of requests, divided by that number. Each scenario's figure is the median of its windows; ` +
      `the spread is (max − min) ÷ min over them. A window into which V8's full mark-compact collection fell ("full GC"), or in which V8 recompiled ` +
      `code (after such a collection, "re-JIT"), is shown but not counted, and another window is measured in its place; "+ GC / re-JIT" is what those windows ` +
      `cost beyond the figure, spread over all the scenario's measured requests (such windows / all windows): a rough amortised share of the full collector, ` +
      `which the figure and the ratios leave out. Requests: ${o.warmupRequests.toLocaleString('en-US')} uninstrumented warm-up per scenario, then ` +
      `${o.requests.toLocaleString('en-US')} per window on ${o.connections} connections; ${requests.toLocaleString('en-US')} measured in all, ` +
      `non-2xx: ${report.scenarios.reduce((a, s) => a + s.non2xx, 0)}, errors: ${report.scenarios.reduce((a, s) => a + s.errors, 0)}.`,
    '',
    table(
      report.scenarios.map((s) => [`\`${s.scenario}\``, s.description]),
      ['scenario', 'what it does'],
      2,
    ),
    '',
    '## Targets',
    '',
    'The issue\'s targets against the reference servers, computed on instructions per request instead of CPU time: the reference\'s ÷ ours, ' +
      'so higher is better for us and 1.00× means "executes what that Fastify app executes".',
    '',
    table(
      report.targets.map((t) => [t.name, t.actual, t.threshold, t.status === 'met' ? '✅ met' : t.status === 'missed' ? '❌ missed' : `n/a${t.note ? ` (${t.note})` : ''}`]),
      ['target', 'measured', 'threshold', 'status'],
      4,
    ),
    '',
  ].join('\n');
}
