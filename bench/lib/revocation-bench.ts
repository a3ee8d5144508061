/**
 * The revocation measurements of `npm run bench` (issue 12 part 1; bench/README.md, "Access-token
 * revocation"): how soon a logout-all on one instance is honoured by another, what the check
 * costs `GET /me` (ACCESS_TOKEN_REVOCATION=instant against off, with an empty list and a full
 * window), and what a window of 100,000 revocations costs in memory.
 */
import type { Fixture, SeededUser } from './fixture.js';
import { postJson } from './fixture.js';
import { revocationCost, type RevocationCost } from './revocation-cost.js';
import { revocationLatency, type RevocationLatency } from './revocation-latency.js';
import { measureListMemory, type ListMemory } from './revocation-memory.js';
import { spawnBenchServer, type ServerProcess } from './server-process.js';

export interface RevocationResult {
  latency: RevocationLatency;
  cost: RevocationCost;
  memory: ListMemory;
  /** No trial failed, every variant answered 2xx, the reload was seen. */
  ok: boolean;
}

export interface RevocationOptions {
  repoRoot: string;
  databaseUrl?: string;
  server: ServerProcess;
  fixture: Fixture;
  quick: boolean;
  connections: number;
  warmupSeconds: number;
  cpuSeconds: number;
  rounds: number;
  log: (line: string) => void;
}

/** The figures: 100 trials, 100,000 revocations (10 and 10,000 in a quick run, and 100,000 for the list's memory, which is cheap). */
const TRIALS = { full: 100, quick: 10 };
const ROWS = { full: 100_000, quick: 10_000 };
export const LIST_ENTRIES = 100_000;

export async function runRevocationBench(options: RevocationOptions): Promise<RevocationResult> {
  const { log, server, fixture } = options;
  const trials = options.quick ? TRIALS.quick : TRIALS.full;

  log(`revocation: memory of a list of ${LIST_ENTRIES.toLocaleString('en-US')} revocations (fresh process, --expose-gc)`);
  const memory = await measureListMemory(options.repoRoot, LIST_ENTRIES);
  log(`  heap ${memory.heapBeforeMiB.toFixed(1)} → ${memory.heapAfterMiB.toFixed(1)} MiB: ${memory.heapMiB.toFixed(1)} MiB for ${memory.entries} entries`);

  log(`revocation: logout-all on A, refused on B, ${trials} trials`);
  const users = await seedUsers(server, trials);
  let latency: RevocationLatency;
  if (server.database === 'postgres') {
    // B: a second process of the bench server, same environment (database, keys), its own port and feed.
    const setupB = { database: server.database, seedKey: server.seedKey, password: server.password, env: withoutAddress(server.env), cleanup: async () => {} };
    const b = await spawnBenchServer(setupB, { repoRoot: options.repoRoot, log, name: 'bench server B' });
    try {
      latency = await revocationLatency(server, b, users, 'two processes');
    } finally {
      await b.stop();
    }
  } else {
    latency = await revocationLatency(server, server, users, 'one process');
  }
  const d = latency.fromAnswer;
  log(
    `  ${latency.completed.length}/${latency.trials} refused (${latency.instances}); from logout-all answered: p50 ${ms(d?.p50)} p99 ${ms(d?.p99)} max ${ms(d?.max)} ms; ` +
      `from sent: p50 ${ms(latency.fromSent?.p50)} max ${ms(latency.fromSent?.max)} ms; ${latency.refusedBeforeAnswer} refused before A's answer arrived`,
  );
  for (const failure of latency.failures.slice(0, 5)) log(`  !! ${failure}`);

  log(`revocation: GET /me with ACCESS_TOKEN_REVOCATION=off, instant, and instant with ${(options.quick ? ROWS.quick : ROWS.full).toLocaleString('en-US')} revocations reloaded`);
  const cost = await revocationCost({
    repoRoot: options.repoRoot,
    databaseUrl: options.databaseUrl,
    keys: server.env ?? {},
    fixture,
    rows: options.quick ? ROWS.quick : ROWS.full,
    connections: options.connections,
    warmupSeconds: options.warmupSeconds,
    // Server CPU per measurement: 2 s is 200 clock ticks, enough to tell 3 % apart (quick: a smoke check).
    cpuSeconds: options.quick ? 0.2 : Math.max(2, options.cpuSeconds),
    rounds: options.rounds,
    log,
  });
  for (const v of cost.variants) log(`  ${v.variant.padEnd(15)} CPU ${ms(v.cpuUsPerRequest)} µs/req (rounds ${v.rounds.map(ms).join(', ')})`);
  log(`  instant ÷ off ${ratio(cost.instantVsOff)}, loaded ÷ off ${ratio(cost.loadedVsOff)}; loaded − empty: heap ${ms(cost.loadedHeapMiB)} MiB, RSS ${ms(cost.loadedRssMiB)} MiB`);
  for (const failure of cost.failures) log(`  !! ${failure}`);

  return { latency, cost, memory, ok: latency.failures.length === 0 && cost.failures.length === 0 && cost.reloadChecked };
}

/** `count` fresh users with one session each, through the bench-only seed route of A. */
async function seedUsers(server: ServerProcess, count: number): Promise<SeededUser[]> {
  const response = await postJson(`${server.baseUrl}/bench/seed`, { prefix: 'revocation', users: count, sessionsPerUser: 1 }, { 'x-bench-key': server.seedKey });
  if (!response.ok) throw new Error(`seeding the revocation trials failed: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { users: SeededUser[] }).users;
}

/** The child's environment without HOST and PORT (a new spawn picks its own port). */
function withoutAddress(env: NodeJS.ProcessEnv | undefined): Record<string, string> {
  const { HOST: _host, PORT: _port, ...rest } = env ?? {};
  return Object.fromEntries(Object.entries(rest).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

const ms = (value: number | undefined) => (value === undefined ? '–' : value >= 100 ? Math.round(value).toString() : value.toFixed(2));
const ratio = (value: number | undefined) => (value === undefined ? '–' : `${value.toFixed(3)}×`);
