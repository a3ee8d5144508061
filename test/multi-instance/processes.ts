import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { ACCESS_SECRET, REFRESH_SECRET } from '../helper.js';
import { spawnLogged } from '../support/logged-process.js';

const root = new URL('../..', import.meta.url);

/** A generous bound for "eventually": never a duration the test asserts. */
export const EVENTUALLY_MS = 10_000;

export interface ServerProcess {
  proc: ChildProcess;
  port: number;
  /** Every stdout line so far (pino JSON). */
  lines: string[];
  stderr(): string;
  exited: Promise<number | null>;
}

/** Every process started here, with its log; `killAll` ends the ones still running, whatever happened. */
const started: { proc: ChildProcess; lines: string[] }[] = [];

/**
 * SIGKILLs every server process still running. A WORKERS primary's workers exit on their
 * own once it is gone (Node's cluster ends a worker whose channel to the primary closes).
 */
export function killAll(): void {
  for (const { proc } of started) {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  }
}

/** Worker pids a primary announced in its log. */
export function workerPids(lines: string[]): number[] {
  return lines.flatMap((line) => {
    const match = /"worker":(\d+)/.exec(line);
    return match ? [Number(match[1])] : [];
  });
}

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/**
 * Starts the built server (`npm run build` first) as `npm start` does, with the test keys,
 * on a free port; resolves once a log line contains `readyWhen`.
 */
export async function startServer(env: Record<string, string>, readyWhen = 'versioned-auth ready'): Promise<ServerProcess> {
  const port = await freePort();
  const { proc, lines, stderr, exited } = spawnLogged(process.execPath, ['--require', './dist/runtime/pool-priority.cjs', 'dist/server.js'], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: String(port),
      LOG_LEVEL: 'info',
      JWT_ACCESS_SECRET: ACCESS_SECRET,
      JWT_REFRESH_SECRET: REFRESH_SECRET,
      ...env,
    },
  });
  started.push({ proc, lines });
  let gone = false;
  void exited.then(() => (gone = true));
  // Generous: several processes start at once on a busy two-core machine.
  const deadline = performance.now() + 60_000;
  while (!lines.some((line) => line.includes(readyWhen))) {
    if (gone || performance.now() > deadline) throw new Error(`server did not start: ${stderr()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { proc, port, lines, stderr, exited };
}

/** Runs the built server where it must refuse to start; resolves with its exit code and output. */
export async function startRefused(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, ['--require', './dist/runtime/pool-priority.cjs', 'dist/server.js'], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'info', JWT_ACCESS_SECRET: ACCESS_SECRET, JWT_REFRESH_SECRET: REFRESH_SECRET, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  started.push({ proc, lines });
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (chunk) => (stdout += chunk));
  proc.stderr!.on('data', (chunk) => (stderr += chunk));
  const code = await new Promise<number | null>((resolve) => proc.on('exit', resolve));
  return { code, stdout, stderr };
}

export interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/**
 * One HTTP request on a connection of its own (no keep-alive agent), so that with WORKERS
 * each request may reach another worker.
 */
export function call(
  port: number,
  method: string,
  path: string,
  options: { body?: unknown; token?: string; headers?: Record<string, string> } = {},
): Promise<Answer> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent: false,
        headers: {
          connection: 'close',
          ...(payload === undefined ? {} : { 'content-type': 'application/json' }),
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...options.headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => (text += chunk));
        res.on('end', () => resolve({ status: res.statusCode!, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** Polls until `check` holds; fails after EVENTUALLY_MS. */
export async function eventually(check: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = performance.now() + EVENTUALLY_MS;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`not ${what} after ${EVENTUALLY_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
