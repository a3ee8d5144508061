import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's utime and stime. */
export const CLOCK_TICKS = (() => {
  try {
    const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
    return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
  } catch {
    return 100;
  }
})();

/** User and system CPU time of a whole process (every thread), in ms; undefined where there is no /proc. */
export function cpuSplitMs(pid: number): { user: number; system: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { user: (Number(fields[11]) * 1000) / CLOCK_TICKS, system: (Number(fields[12]) * 1000) / CLOCK_TICKS };
  } catch {
    return undefined;
  }
}

/**
 * User plus system CPU time of a whole process (every thread: the event loop, libuv's
 * pool where argon2 runs, the GC), in milliseconds, from /proc/<pid>/stat; undefined
 * where there is no /proc. Resolution is one clock tick (10 ms at CLK_TCK=100).
 */
export function cpuMs(pid: number): number | undefined {
  const split = cpuSplitMs(pid);
  return split && split.user + split.system;
}

/** CPU time the whole machine spent busy (every core; stolen time included), in ms, from /proc/stat. */
export function machineBusyMs(): number | undefined {
  try {
    const [, user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).map(Number);
    return (((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/** Resident set size in MiB from /proc/<pid>/status; undefined where there is no /proc. */
export function rssMiB(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** Peak resident set size (VmHWM) in MiB since the process started; undefined where there is no /proc. */
export function peakRssMiB(pid: number): number | undefined {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Number(match[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The main (event-loop) thread's time on a CPU and waiting in the run queue for one, in ms, from /proc/<pid>/task/<pid>/schedstat. */
export function mainThreadSchedMs(pid: number): { running: number; waiting: number } | undefined {
  try {
    const [running, waiting] = readFileSync(`/proc/${pid}/task/${pid}/schedstat`, 'utf8').trim().split(' ').map(Number);
    return running === undefined || waiting === undefined ? undefined : { running: running / 1e6, waiting: waiting / 1e6 };
  } catch {
    return undefined;
  }
}

export interface ThreadUsage {
  seconds: number;
  /** Whole process (all threads) CPU, ms per second of wall time. */
  processCpuMsPerS?: number;
  /** Event-loop thread on a CPU, ms per second. */
  mainThreadCpuMsPerS?: number;
  /** Event-loop thread runnable but waiting for a CPU, ms per second. */
  mainThreadWaitMsPerS?: number;
}

/** Starts measuring where a process's CPU time goes; call the result to stop. */
export function threadUsage(pid: number): () => ThreadUsage {
  const t0 = performance.now();
  const cpu0 = cpuMs(pid);
  const sched0 = mainThreadSchedMs(pid);
  return () => {
    const seconds = (performance.now() - t0) / 1000;
    const cpu1 = cpuMs(pid);
    const sched1 = mainThreadSchedMs(pid);
    const rate = (a?: number, b?: number) => (a !== undefined && b !== undefined ? (b - a) / seconds : undefined);
    return {
      seconds,
      processCpuMsPerS: rate(cpu0, cpu1),
      mainThreadCpuMsPerS: rate(sched0?.running, sched1?.running),
      mainThreadWaitMsPerS: rate(sched0?.waiting, sched1?.waiting),
    };
  };
}

/**
 * User plus system CPU time, in ms, of each PostgreSQL backend serving `database` (found by
 * its command line, "postgres: … <user> <database> <client> …"), by pid.
 */
export function postgresBackendsCpuMs(database: string): Map<number, number> | undefined {
  const byPid = new Map<number, number>();
  try {
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
        if (!cmdline.startsWith('postgres:') || !cmdline.includes(` ${database} `)) continue;
        const ms = cpuMs(Number(entry));
        if (ms !== undefined) byPid.set(Number(entry), ms);
      } catch {
        // exited meanwhile
      }
    }
  } catch {
    return undefined;
  }
  return byPid;
}

/**
 * CPU the backends spent between two readings: growth of those present in both, plus all of
 * those that started in between. A backend that exited in between (the pool closes idle
 * connections after 30 s) takes its time with it, so this can only undercount.
 */
export function postgresCpuBetween(before: Map<number, number>, after: Map<number, number>): number {
  let total = 0;
  for (const [pid, ms] of after) total += ms - (before.get(pid) ?? 0);
  return total;
}
