/**
 * The `memory` scenario: RSS of the server exactly as `npm start` runs it: package.json's
 * start script (its glibc malloc setting, V8 flags and the thread-pool preload, on the built
 * dist/server.js; `npm run build` first) run by sh as npm runs it, which the bench server is
 * not (it runs under tsx, whose loader thread adds memory). MALLOC_ARENA_MAX set in the
 * bench's own environment reaches the server, to compare an operator's value. On an empty DATA_DIR: RSS
 * once it serves (on PGlite a first start, which creates the database), its peak, after a
 * login storm; on PGlite then a restart on the same directory. Readings from
 * /proc/<pid>/status, without any garbage collection first: what an operator sees.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { prepareServer } from './server-process.js';
import { peakRssMiB, rssMiB } from './proc.js';

export interface MemoryResult {
  database: 'pglite' | 'postgres';
  /** First start: RSS once it serves, and its peak up to then (the initdb child's is its own). */
  start?: number;
  startPeak?: number;
  /** Seconds from spawn until it served. */
  startSeconds?: number;
  /** After `logins` logins over `connections` connections. */
  afterLoginStorm?: number;
  logins: number;
  failedLogins: number;
  /** PGlite: a restart on the directory the first start created. */
  restart?: number;
  ok: boolean;
  error?: string;
}

export interface MemoryOptions {
  repoRoot: string;
  databaseUrl: string | undefined;
  connections: number;
  logins: number;
  log(line: string): void;
}

/** Builds, then starts dist/server.js on a fresh DATA_DIR (or database) and reads its memory. */
export async function measureMemory(options: MemoryOptions): Promise<MemoryResult> {
  const { repoRoot, databaseUrl, connections, logins, log } = options;
  log('memory: npm run build, then the built server as npm start runs it');
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: repoRoot, stdio: 'ignore' });
  const setup = await prepareServer({ databaseUrl, log });
  const result: MemoryResult = { database: setup.database, logins, failedLogins: 0, ok: false };
  try {
    const first = await startBuilt(repoRoot, setup.env, log);
    try {
      result.start = rssMiB(first.pid);
      result.startPeak = peakRssMiB(first.pid);
      result.startSeconds = first.seconds;
      result.failedLogins = await loginStorm(first.baseUrl, connections, logins);
      result.afterLoginStorm = rssMiB(first.pid);
    } finally {
      await first.stop();
    }
    if (setup.database === 'pglite') {
      const again = await startBuilt(repoRoot, setup.env, log);
      result.restart = rssMiB(again.pid);
      await again.stop();
    }
    result.ok = result.failedLogins === 0;
  } catch (error) {
    result.error = error instanceof Error ? error.message : String(error);
    log(`memory: ${result.error}`);
  } finally {
    await setup.cleanup();
  }
  log(
    `memory: RSS after ${setup.database === 'pglite' ? 'a first start' : 'start'} ${fmt(result.start)} MiB (peak ${fmt(result.startPeak)}), ` +
      `after ${logins} logins ${fmt(result.afterLoginStorm)} MiB${result.restart === undefined ? '' : `, after a restart ${fmt(result.restart)} MiB`}`,
  );
  return result;
}

const fmt = (value: number | undefined) => (value === undefined ? '–' : String(Math.round(value)));

/** Registers one user, then sends `total` logins for it over `connections` connections; resolves with the failures. */
async function loginStorm(baseUrl: string, connections: number, total: number): Promise<number> {
  const body = JSON.stringify({ email: `memory-${randomBytes(6).toString('hex')}@bench.example.com`, password: `memory-${randomBytes(9).toString('base64url')}` });
  const post = (path: string) => fetch(`${baseUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const registered = await post('/auth/register');
  await registered.arrayBuffer();
  if (registered.status !== 201) throw new Error(`register answered ${registered.status}`);
  let sent = 0;
  let failed = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (sent < total) {
        sent += 1;
        const response = await post('/auth/login').catch(() => undefined);
        await response?.arrayBuffer();
        if (response?.status !== 200) failed += 1;
      }
    }),
  );
  return failed;
}

interface Started {
  pid: number;
  baseUrl: string;
  seconds: number;
  stop(): Promise<void>;
}

async function startBuilt(repoRoot: string, env: Record<string, string>, log: (line: string) => void): Promise<Started> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn('sh', ['-c', `exec ${startScript(repoRoot)}`], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...(process.env.MALLOC_ARENA_MAX === undefined ? {} : { MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX }),
      ...env,
      // A storm of logins queued behind argon2 on a busy machine must not hit the 10 s request timeout.
      REQUEST_TIMEOUT: '120s',
      HOST: '127.0.0.1',
      PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const stream of [child.stdout!, child.stderr!]) {
    stream.on('data', (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) if (line.trim()) log(`[memory] ${line}`);
    });
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  };
  const baseUrl = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 150_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the built server exited during start-up (${child.exitCode})`);
    if (Date.now() > deadline) {
      await stop();
      throw new Error('the built server did not serve /health within 150 s');
    }
    try {
      const response = await fetch(`${baseUrl}/health`);
      await response.arrayBuffer();
      if (response.ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { pid: child.pid!, baseUrl, seconds: Math.round((performance.now() - started) / 100) / 10, stop };
}

/**
 * package.json's start script, which `exec` makes sh replace itself with: its `env` then execs
 * node, so the child's pid is the server's and its RSS is read, not a shell's.
 */
function startScript(repoRoot: string): string {
  const { scripts } = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const script = scripts.start;
  if (!script?.startsWith('env ') && !script?.startsWith('node ')) throw new Error(`package.json's start script must begin with env or node to be exec'd: ${script}`);
  return script;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}
