import { readdirSync, readFileSync } from 'node:fs';

/** The nice value of a thread of this process (Linux /proc), or undefined. */
function niceOf(tid: string): number | undefined {
  try {
    const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces; nice is field 19.
    const nice = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
    return Number.isInteger(nice) ? nice : undefined;
  } catch {
    return undefined;
  }
}

/**
 * How many of this process's threads run at the lowest priority (nice 19): libuv's pool,
 * where argon2 runs, when src/pool-priority.cjs was preloaded; otherwise 0. Undefined
 * where there is no /proc (not Linux).
 */
export function lowPriorityThreads(): { low: number; eventLoopNice: number | undefined } | undefined {
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return undefined;
  }
  const low = tids.filter((tid) => niceOf(tid) === 19).length;
  return { low, eventLoopNice: niceOf(String(process.pid)) };
}
