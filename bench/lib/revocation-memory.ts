/**
 * What a RevocationList holding `count` revocations of the bench's mix costs in JS heap:
 * measured in a fresh node process with --expose-gc (`measureListMemory` starts it), heap in
 * use after full collections before and after filling the list. The events are made one at a
 * time, as NOTIFY payloads parsed by the feed's own parser, and dropped, so only what the
 * list keeps (map slots, UUID strings, entries) is counted.
 * Run directly: `node --expose-gc --import tsx bench/lib/revocation-memory.ts <count>`.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseRevocationPayload } from '../../src/db/revocations.js';
import { RevocationList } from '../../src/revocation/list.js';
import { mixOf, revocationEvent } from './revocation-rows.js';

export interface ListMemory {
  count: number;
  /** List entries after filling (sessions + users). */
  entries: number;
  mix: ReturnType<typeof mixOf>;
  heapBeforeMiB: number;
  heapAfterMiB: number;
  /** heapAfter − heapBefore. */
  heapMiB: number;
  /** RSS growth over the same span (includes the heap's reserved but unused pages). */
  rssMiB: number;
}

const MiB = 1024 * 1024;
/** The bench server's window: ACCESS_TOKEN_TTL=2h plus the 30 s skew. */
const WINDOW_MS = (2 * 3600 + 30) * 1000;

/** Starts the measuring process and returns what it printed. */
export function measureListMemory(repoRoot: string, count: number): Promise<ListMemory> {
  const script = fileURLToPath(import.meta.url);
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--expose-gc', '--import', 'tsx', script, String(count)], { cwd: repoRoot, timeout: 120_000 }, (error, stdout, stderr) => {
      if (error) return reject(new Error(`revocation memory: ${stderr || String(error)}`));
      resolve(JSON.parse(stdout.trim().split('\n').pop()!) as ListMemory);
    });
  });
}

function settle(): NodeJS.MemoryUsage {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc');
  for (let i = 0; i < 3; i++) gc();
  return process.memoryUsage();
}

function main(count: number): ListMemory {
  const now = Date.UTC(2026, 11, 2);
  const list = new RevocationList({ now: () => now }, WINDOW_MS);
  const before = settle();
  // Spread over the first half of the window, so nothing is pruned or refused as too old.
  // Through a NOTIFY payload, as the feed receives them: its strings are flat, as JSON.parse
  // (or pg, on the reload path) makes them; randomUUID's own are concatenation trees, which
  // measured about 53 MiB per 100k instead.
  for (let i = 0; i < count; i++) list.add(parseRevocationPayload(JSON.stringify(revocationEvent(i, count, now, WINDOW_MS / 2)))!);
  const after = settle();
  if (list.size !== count) {
    throw new Error(`the list holds ${list.size} entries, expected ${count}`);
  }
  return {
    count,
    entries: list.size,
    mix: mixOf(count),
    heapBeforeMiB: before.heapUsed / MiB,
    heapAfterMiB: after.heapUsed / MiB,
    heapMiB: (after.heapUsed - before.heapUsed) / MiB,
    rssMiB: (after.rss - before.rss) / MiB,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.stdout.write(JSON.stringify(main(Number(process.argv[2] ?? 100_000))) + '\n');
}
