import type { Callgrind } from './callgrind.js';
import type { ScenarioInstructions } from './instructions-report.js';
import type { TargetCheck } from './report.js';
import { freePort, spawnBenchServer, type ChildServer, type ServerSetup } from './server-process.js';

/**
 * The `--instructions` mode's metrics scenario: the `me` request on the bench server started
 * with METRICS_PORT set (every route timed into a histogram, the auth counters, Node's
 * default metrics, the /metrics listener idle), compared with `me` on the bench server
 * without it (metrics off: no hook, nothing recorded).
 */
export const METRICS_INSTRUCTION_SCENARIOS = ['me-metrics'] as const;
export type MetricsInstructionScenario = (typeof METRICS_INSTRUCTION_SCENARIOS)[number];

/** The bound: metrics on costs `me` at most 3 % more instructions. */
const MAX_RATIO = 1.03;

const DESCRIPTION = "me's request, bench server with METRICS_PORT set (metrics on, /metrics listener idle)";

export interface MetricsGroup {
  label: string;
  names: ['me'];
  start: () => Promise<ChildServer>;
  relabel: (s: ScenarioInstructions) => ScenarioInstructions;
}

/** Server groups for instructions.ts, on the service's setup (data, keys, seeded tokens). */
export function metricsGroups(
  wanted: readonly string[],
  setup: ServerSetup,
  callgrind: Callgrind,
  options: { repoRoot: string; log: (line: string) => void },
): MetricsGroup[] {
  if (!wanted.includes('me-metrics')) return [];
  return [
    {
      label: 'metrics-on',
      names: ['me'],
      start: async () =>
        spawnBenchServer(
          { ...setup, env: { ...setup.env, METRICS_PORT: String(await freePort()) } },
          { repoRoot: options.repoRoot, log: options.log, wrapper: callgrind.wrapper('metrics-on'), name: 'bench server, metrics on (callgrind)' },
        ),
      relabel: (s) => ({ ...s, scenario: 'me-metrics', server: 'bench server, METRICS_PORT set', description: DESCRIPTION }),
    },
  ];
}

/** me with metrics on against me with them off: ≤ 1.03. */
export function metricsInstructionTargets(per: (name: string) => number | undefined): TargetCheck[] {
  const off = per('me');
  const on = per('me-metrics');
  const value = on !== undefined && off ? on / off : undefined;
  return [
    {
      name: `me with METRICS_PORT set ≤ ${MAX_RATIO} × without`,
      value,
      actual: value === undefined ? 'not measured' : `${value.toFixed(3)}× (me-metrics ${(on! / 1000).toFixed(1)}k ÷ me ${(off! / 1000).toFixed(1)}k instr/req)`,
      threshold: `≤ ${MAX_RATIO}×`,
      status: value === undefined ? 'n/a' : value <= MAX_RATIO ? 'met' : 'missed',
      note: value === undefined ? 'not run (--only me,me-metrics)' : 'instructions/req, on ÷ off (lower is better)',
    },
  ];
}
