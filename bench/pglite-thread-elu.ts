/**
 * `npx tsx bench/pglite-thread-elu.ts`: the event loop's own busy time per database
 * operation (performance.eventLoopUtilization()), PGlite on the event loop (PGLITE_THREAD=main)
 * against PGlite in a worker thread (worker), both open in this process, alternating rounds.
 * Unlike latency under load, it hardly moves with what else runs on the machine.
 */
import { performance } from 'node:perf_hooks';
import { sql } from 'drizzle-orm';
import { openDatabase } from '../src/db/client.js';

const modes = ['main', 'worker'] as const;
const dbs = Object.fromEntries(await Promise.all(modes.map(async (mode) => {
  const database = await openDatabase({ kind: 'pglite', dataDir: 'memory://', thread: mode });
  await database.migrate();
  await database.db.execute(sql`create table t (id int primary key, v text, at timestamptz default now())`);
  return [mode, database] as const;
})));
let next = 0;
async function op(mode: (typeof modes)[number]) {
  const { db } = dbs[mode]!;
  const id = next++;
  await db.transaction(async (tx) => {
    await tx.execute(sql`insert into t (id, v) values (${id}, ${'x'.repeat(100)})`);
    await tx.execute(sql`update t set v = ${'y'} where id = ${id}`);
  });
  await db.execute(sql`select * from t where id = ${id}`);
}
const N = 400;
for (let round = 1; round <= 4; round++) {
  for (const mode of round % 2 ? modes : [...modes].reverse()) {
    const elu0 = performance.eventLoopUtilization();
    const t0 = performance.now();
    // Four callers at once, like a few requests in flight.
    await Promise.all(Array.from({ length: 4 }, async () => { for (let i = 0; i < N / 4; i++) await op(mode); }));
    const wall = performance.now() - t0;
    const elu = performance.eventLoopUtilization(elu0);
    console.log(`round ${round} ${mode.padEnd(6)} ${(wall * 1000 / N).toFixed(0)} µs wall/op, event loop active ${(elu.active * 1000 / N).toFixed(0)} µs/op (utilization ${(elu.utilization * 100).toFixed(0)}%)`);
  }
}
for (const d of Object.values(dbs)) await d.close();
