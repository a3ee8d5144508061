import { readdirSync, readFileSync } from 'node:fs';

/**
 * The nice value of every thread of a process, by thread id, from Linux's /proc; undefined
 * where there is no /proc (not Linux). A thread that ends while it is read is left out.
 */
export function niceByThread(pid: number | 'self' = 'self'): Map<string, number> | undefined {
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return undefined;
  }
  const nice = new Map<string, number>();
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      // Fields after the command name, which is in parentheses and may contain spaces; nice is field 19.
      nice.set(tid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
    } catch {
      // The thread ended meanwhile.
    }
  }
  return nice;
}

/**
 * How many of this process's threads run at the lowest priority (nice 19): libuv's pool,
 * where argon2 runs, when src/runtime/pool-priority.cjs was preloaded; otherwise 0. Undefined
 * where there is no /proc (not Linux).
 */
export function lowPriorityThreads(): { low: number; eventLoopNice: number | undefined } | undefined {
  const nice = niceByThread();
  if (!nice) return undefined;
  return { low: [...nice.values()].filter((n) => n === 19).length, eventLoopNice: nice.get(String(process.pid)) };
}
