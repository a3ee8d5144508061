import { spawn, spawnSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Instructions a process executes, counted by `perf stat` (Linux perf events). Unlike CPU
 * time, the count does not move when a neighbour on a shared machine takes the core or
 * slows it down, so it shows what a change costs even on a noisy box. Undefined where perf
 * is missing or the kernel does not expose the counter (many VMs).
 */
export interface InstructionCounter {
  /** Stops counting; user-space and kernel instructions, or undefined when perf gave none. */
  stop(): Promise<{ user: number; kernel: number } | undefined>;
}

let available: boolean | undefined;

export function perfAvailable(): boolean {
  available ??= (() => {
    const probe = spawnSync('perf', ['stat', '-x,', '-e', 'instructions:u', 'true'], { encoding: 'utf8' });
    return probe.status === 0 && /^\d+,/m.test(probe.stderr ?? '');
  })();
  return available;
}

/** Starts counting `pid`'s instructions (every thread); undefined without perf. */
export async function countInstructions(pid: number): Promise<InstructionCounter | undefined> {
  if (!perfAvailable()) return undefined;
  const perf = spawn('perf', ['stat', '-x,', '-e', 'instructions:u,instructions:k', '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  perf.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<void>((resolve) => perf.once('close', () => resolve()));
  // perf attaches in a few milliseconds; an idle server executes next to nothing meanwhile.
  await sleep(50);
  return {
    async stop() {
      perf.kill('SIGINT');
      await exited;
      const count = (event: string) => {
        const line = stderr.split('\n').find((l) => l.split(',')[2]?.startsWith(event));
        const value = Number(line?.split(',')[0]);
        return Number.isFinite(value) ? value : undefined;
      };
      const user = count('instructions:u');
      const kernel = count('instructions:k');
      return user === undefined || kernel === undefined ? undefined : { user, kernel };
    },
  };
}
