import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

export interface LoggedProcess {
  proc: ChildProcess;
  /** Every complete stdout line so far (pino JSON for our server). */
  lines: string[];
  stderr(): string;
  exited: Promise<number | null>;
}

/** Spawns `command` with stdout collected line by line and stderr as text. */
export function spawnLogged(command: string, args: string[], options: Omit<SpawnOptions, 'stdio'>): LoggedProcess {
  const proc = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  let buffer = '';
  proc.stdout!.on('data', (chunk) => {
    buffer += chunk;
    const parts = buffer.split('\n');
    buffer = parts.pop()!;
    lines.push(...parts);
  });
  let stderr = '';
  proc.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, lines, stderr: () => stderr, exited };
}
