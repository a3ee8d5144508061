import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTemporaryDatabase } from '../../test/support/temporary-database.js';

/**
 * The only variables the child inherits from the caller's shell: nothing the server reads
 * (DATABASE_URL, REDIS_URL, JWT_*, NODE_ENV…) leaks into a run by accident. UV_THREADPOOL_SIZE
 * passes, for experiments on the argon2 pool.
 */
const INHERITED = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ', 'UV_THREADPOOL_SIZE'];

export interface ServerProcess {
  pid: number;
  baseUrl: string;
  database: 'pglite' | 'postgres';
  /** The temporary PostgreSQL database's name (PostgreSQL only). */
  postgresDatabase?: string;
  /** The per-run key of the bench-only seed route. */
  seedKey: string;
  /** The password every seeded user has. */
  password: string;
  /** Set when the child was started with --cpu-prof. */
  cpuProfileDir?: string;
  /** How the server ended if it exited before `stop()` (a crash during the run); undefined while it runs. */
  unexpectedExit(): string | undefined;
  /** Stops the server (SIGTERM, then SIGKILL), drops the temporary database, deletes DATA_DIR. */
  stop(): Promise<void>;
}

export interface StartOptions {
  repoRoot: string;
  /** Unset: embedded PGlite. Set: a fresh database on that server, dropped at stop. */
  databaseUrl?: string;
  cpuProfile?: boolean;
  log: (line: string) => void;
}

/** Starts bench/server.ts as a child process on a free port with its own data and keys. */
export async function startServer(options: StartOptions): Promise<ServerProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'versioned-auth-bench-'));
  const cleanups: (() => Promise<void>)[] = [async () => rmSync(dataDir, { recursive: true, force: true })];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) await step().catch((error) => options.log(`cleanup: ${String(error)}`));
    cleanups.length = 0;
  };

  try {
    let databaseUrl: string | undefined;
    let postgresDatabase: string | undefined;
    if (options.databaseUrl) {
      const temporary = await createTemporaryDatabase(options.databaseUrl, `bench_${Date.now()}`);
      cleanups.push(temporary.drop);
      databaseUrl = temporary.url;
      postgresDatabase = temporary.name;
      options.log(`database: PostgreSQL, temporary database ${temporary.name}`);
    } else {
      options.log(`database: PGlite in ${join(dataDir, 'pglite')}`);
    }

    const port = await freePort();
    const seedKey = randomBytes(24).toString('base64url');
    const password = `bench-${randomBytes(9).toString('base64url')}`;
    const env: NodeJS.ProcessEnv = Object.fromEntries(
      INHERITED.filter((name) => process.env[name] !== undefined).map((name) => [name, process.env[name]]),
    );
    Object.assign(env, {
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: dataDir,
      LOG_LEVEL: 'warn',
      RATE_LIMIT: 'off',
      JWT_ACCESS_SECRET: randomBytes(32).toString('base64url'),
      JWT_REFRESH_SECRET: randomBytes(32).toString('base64url'),
      // Tokens are minted once at seed time; they must outlive a long run.
      ACCESS_TOKEN_TTL: '2h',
      BENCH_SEED_KEY: seedKey,
      BENCH_PASSWORD: password,
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    });

    // Outside DATA_DIR, which is deleted at stop: the profile is read after the server exits.
    const cpuProfileDir = options.cpuProfile ? mkdtempSync(join(tmpdir(), 'versioned-auth-cpu-profile-')) : undefined;
    const nodeFlags = cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [];
    const child = spawn(process.execPath, [...nodeFlags, '--expose-gc', '--require', './src/pool-priority.cjs', '--import', 'tsx', 'bench/server.ts'], {
      cwd: options.repoRoot,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let running = true;
    let stopping = false;
    let exitedAs: string | undefined;
    const exited = new Promise<number | null>((resolve) =>
      child.once('exit', (code, signal) => {
        running = false;
        if (!stopping) exitedAs = signal ? `killed by ${signal}` : `exited with code ${code}`;
        resolve(code);
      }),
    );
    const output: string[] = [];
    const forward = (chunk: Buffer) => {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line.trim() === '') continue;
        output.push(line);
        if (output.length > 50) output.shift();
        options.log(`[server] ${line}`);
      }
    };
    child.stdout!.on('data', forward);
    child.stderr!.on('data', forward);
    cleanups.push(async () => {
      stopping = true;
      if (running) await stopChild(child, exited);
    });

    const baseUrl = `http://127.0.0.1:${port}`;
    await waitUntilServing(baseUrl, () => running, () => output.join('\n'));
    return {
      pid: child.pid!,
      baseUrl,
      database: databaseUrl ? 'postgres' : 'pglite',
      postgresDatabase,
      seedKey,
      password,
      cpuProfileDir,
      unexpectedExit: () => exitedAs,
      stop: cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function waitUntilServing(baseUrl: string, running: () => boolean, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (!running()) throw new Error(`the bench server exited during start-up:\n${output()}`);
    try {
      const response = await fetch(`${baseUrl}/health`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the bench server did not serve /health within 60 s:\n${output()}`);
}

/** A port nobody listens on right now (the kernel's choice). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
