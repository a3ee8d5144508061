import { existsSync, readFileSync } from 'node:fs';
import { fmt, type Report, type Row, type TargetCheck } from './report.js';

/** A scenario's medians as the previous report gave them. */
export interface PreviousFigures {
  rps?: number;
  cpuUsPerRequest?: number;
  p99?: number;
}

/**
 * The figures of the previous saved report on the same database that this run is checked
 * against for regressions: read before the run overwrites the file, and kept in the new
 * report so it says what it was compared with.
 */
export interface PreviousRun {
  /** The file, as the runner named it (relative to the repository). */
  file: string;
  date: string;
  quick: boolean;
  cpu: string;
  cores: number;
  connections: number;
  refresh?: PreviousFigures;
  login?: PreviousFigures;
  'login-storm'?: PreviousFigures;
}

/**
 * How much worse than the previous report a median may be and still count as the same:
 * the run-to-run noise of medians on the reference machine (bench/README.md, "Run-to-run
 * noise"). CPU per request of identical work moved by up to 21% between two runs minutes
 * apart; the login-storm p99 is a tail latency behind argon2's queue and moves more.
 */
export const TOLERANCE = { cpuUsPerRequest: 0.25, p99: 0.3 } as const;

const COMPARED = ['refresh', 'login', 'login-storm'] as const;

/** The previous report's figures, or undefined when there is no readable report at `path`. */
export function readPreviousRun(path: string, shownAs: string): PreviousRun | undefined {
  if (!existsSync(path)) return undefined;
  let report: Report;
  try {
    report = JSON.parse(readFileSync(path, 'utf8')) as Report;
  } catch {
    return undefined;
  }
  const figures = (name: string): PreviousFigures | undefined => {
    const row = report.summary?.find((r) => r.scenario === name);
    return row && { rps: row.rps, cpuUsPerRequest: row.cpuUsPerRequest, p99: row.p99 };
  };
  return {
    file: shownAs,
    date: report.meta.date,
    quick: report.meta.quick,
    cpu: report.meta.cpu,
    cores: report.meta.cores,
    connections: report.meta.options.connections,
    ...Object.fromEntries(COMPARED.map((name) => [name, figures(name)])),
  };
}

/** Why this run's figures cannot be compared with the previous report's; undefined when they can. */
function notComparable(meta: Report['meta']): string | undefined {
  const previous = meta.previous;
  if (meta.quick) return 'quick run';
  if (!previous) return 'no previous report on this database';
  if (previous.quick) return `previous report ${previous.file} is a quick run`;
  if (previous.cpu !== meta.cpu || previous.cores !== meta.cores) return `previous report ran on ${previous.cores} × ${previous.cpu}`;
  if (previous.connections !== meta.options.connections) return `previous report used ${previous.connections} connections`;
  return undefined;
}

/** No regression of refresh, login and the login-storm p99 against the previous report, within the noise. */
export function regressionChecks(report: Pick<Report, 'meta' | 'summary'>): TargetCheck[] {
  const why = notComparable(report.meta);
  const previous = report.meta.previous;
  const row = (name: string): Row | undefined => report.summary.find((r) => r.scenario === name);
  const check = (name: (typeof COMPARED)[number], metric: 'cpuUsPerRequest' | 'p99', unit: string): TargetCheck => {
    const tolerance = metric === 'p99' ? TOLERANCE.p99 : TOLERANCE.cpuUsPerRequest;
    const threshold = `≤ ${(1 + tolerance).toFixed(2)}× previous`;
    const title = `${name} ${metric === 'p99' ? 'p99' : 'CPU/req'} ${threshold} report (no regression)`;
    const now = row(name)?.[metric];
    const before = previous?.[name]?.[metric];
    if (why || now === undefined || !before) {
      return { name: title, actual: 'not compared', threshold, status: 'n/a', note: why ?? (now === undefined ? 'not run' : 'not in the previous report') };
    }
    const value = now / before;
    const rps = metric === 'p99' ? '' : `; req/s ${fmt(row(name)?.rps)} vs ${fmt(previous?.[name]?.rps)}`;
    return {
      name: title,
      value,
      actual: `${value.toFixed(2)}× previous (${fmt(now)} vs ${fmt(before)} ${unit}${rps})`,
      threshold,
      status: value <= 1 + tolerance ? 'met' : 'missed',
    };
  };
  return [check('refresh', 'cpuUsPerRequest', 'µs/req'), check('login', 'cpuUsPerRequest', 'µs/req'), check('login-storm', 'p99', 'ms')];
}

/** One line saying which previous figures the regression checks used; none without a previous report. */
export function previousLine(meta: Report['meta']): string[] {
  const previous = meta.previous;
  if (!previous) return [];
  const figures = (name: (typeof COMPARED)[number]) => previous[name];
  return [
    `Regression checks against ${previous.file} of ${previous.date}${previous.quick ? ' (quick)' : ''}: ` +
      `refresh ${fmt(figures('refresh')?.cpuUsPerRequest)} µs/req (${fmt(figures('refresh')?.rps)} req/s), ` +
      `login ${fmt(figures('login')?.cpuUsPerRequest)} µs/req (${fmt(figures('login')?.rps)} req/s), ` +
      `login-storm p99 ${fmt(figures('login-storm')?.p99)} ms; tolerance +${Math.round(TOLERANCE.cpuUsPerRequest * 100)}% on CPU/req, ` +
      `+${Math.round(TOLERANCE.p99 * 100)}% on p99 (run-to-run noise, bench/README.md).`,
  ];
}
