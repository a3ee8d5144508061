import type { TargetCheck } from './report.js';
import type { Callgrind } from './callgrind.js';
import type { ScenarioInstructions } from './instructions-report.js';
import { databaseOf } from './revocation-cost.js';
import { insertRevocations } from './revocation-rows.js';
import { TARGETS } from './revocation-report.js';
import { spawnBenchServer, type ChildServer, type ServerSetup } from './server-process.js';

/**
 * The `--instructions` mode's revocation scenarios: the `me` request on the bench server
 * started with ACCESS_TOKEN_REVOCATION=off, and on the bench server (instant) after
 * reloading 100,000 revocations at start; each compared with `me` (instant, empty list).
 */
export const REVOCATION_INSTRUCTION_SCENARIOS = ['me-revocation-off', 'me-revoked-100k'] as const;
export type RevocationInstructionScenario = (typeof REVOCATION_INSTRUCTION_SCENARIOS)[number];

/** Revocations reloaded by the `me-revoked-100k` server. */
const ROWS = 100_000;

const DESCRIPTIONS: Record<RevocationInstructionScenario, string> = {
  'me-revocation-off': "me's request, bench server with ACCESS_TOKEN_REVOCATION=off (signature only)",
  'me-revoked-100k': `me's request, bench server (instant) that reloaded ${ROWS.toLocaleString('en-US')} revocations at start`,
};

export interface RevocationGroup {
  label: string;
  names: ['me'];
  start: () => Promise<ChildServer>;
  /** Renames the `me` figure measured on this server. */
  relabel: (s: ScenarioInstructions) => ScenarioInstructions;
}

/**
 * Server groups for instructions.ts, run after the service's own (same setup: data, keys,
 * seeded tokens). The 100k rows are written into the setup's database just before its
 * server starts, when no other server has it open, and stay for later starts (none is the
 * service's: it runs first).
 */
export function revocationGroups(
  wanted: readonly string[],
  setup: ServerSetup,
  callgrind: Callgrind,
  options: { repoRoot: string; log: (line: string) => void },
): RevocationGroup[] {
  const groups: RevocationGroup[] = [];
  const relabel = (scenario: RevocationInstructionScenario, server: string) => (s: ScenarioInstructions) => ({
    ...s,
    scenario,
    server,
    description: DESCRIPTIONS[scenario],
  });
  if (wanted.includes('me-revocation-off')) {
    groups.push({
      label: 'revocation-off',
      names: ['me'],
      start: () =>
        spawnBenchServer(
          { ...setup, env: { ...setup.env, ACCESS_TOKEN_REVOCATION: 'off' } },
          { repoRoot: options.repoRoot, log: options.log, wrapper: callgrind.wrapper('revocation-off'), name: 'bench server, revocation off (callgrind)' },
        ),
      relabel: relabel('me-revocation-off', 'bench server, off'),
    });
  }
  if (wanted.includes('me-revoked-100k')) {
    groups.push({
      label: 'revoked-100k',
      names: ['me'],
      start: async () => {
        const t0 = performance.now();
        await insertRevocations(databaseOf(setup), ROWS, Date.now(), 30 * 60_000);
        options.log(`  ${ROWS.toLocaleString('en-US')} revocation rows written in ${Math.round(performance.now() - t0)} ms`);
        return spawnBenchServer(setup, { repoRoot: options.repoRoot, log: options.log, wrapper: callgrind.wrapper('revoked-100k'), name: 'bench server, 100k revoked (callgrind)' });
      },
      relabel: relabel('me-revoked-100k', 'bench server, 100k revoked'),
    });
  }
  return groups;
}

/** me (instant) and me with 100k revocations against me with the feed off: ours ÷ off, ≤ 1.03. */
export function revocationInstructionTargets(per: (name: string) => number | undefined): TargetCheck[] {
  const off = per('me-revocation-off');
  const check = (name: string, scenario: string): TargetCheck => {
    const on = per(scenario);
    const value = on !== undefined && off ? on / off : undefined;
    return {
      name,
      value,
      actual: value === undefined ? 'not measured' : `${value.toFixed(3)}× (${scenario} ${(on! / 1000).toFixed(1)}k ÷ me-revocation-off ${(off! / 1000).toFixed(1)}k instr/req)`,
      threshold: `≤ ${TARGETS.cpuRatio}×`,
      status: value === undefined ? 'n/a' : value <= TARGETS.cpuRatio ? 'met' : 'missed',
      note: value === undefined ? 'not run' : 'instructions/req, ours ÷ off (lower is better)',
    };
  };
  return [
    check('me with ACCESS_TOKEN_REVOCATION=instant ≤ 1.03 × off', 'me'),
    check(`me with ${ROWS.toLocaleString('en-US')} revocations in the list ≤ 1.03 × off`, 'me-revoked-100k'),
  ];
}
