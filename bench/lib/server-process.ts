import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTemporaryDatabase } from '../../test/support/temporary-database.js';
import type { MeAnswer } from '../reference/apps.js';
import type { ReferenceScenario } from './scenarios.js';

/**
 * The only variables the child inherits from the caller's shell: nothing the server reads
 * (DATABASE_URL, REDIS_URL, JWT_*, NODE_ENV…) leaks into a run by accident. UV_THREADPOOL_SIZE
 * passes, for experiments on the argon2 pool.
 */
const INHERITED = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ', 'UV_THREADPOOL_SIZE'];

/** The level every server the bench drives logs at: what a production service would, quietly. */
export const BENCH_LOG_LEVEL = 'warn';

/** A server the bench drives, running in a child process of its own. */
export interface ChildServer {
  /** How log lines and warnings name it: `bench server`, `fastify-bare`… */
  name: string;
  pid: number;
  baseUrl: string;
  /** The environment it was started with (HOST and PORT included). */
  env?: NodeJS.ProcessEnv;
  /** How the server ended if it exited before `stop()` (a crash during the run); undefined while it runs. */
  unexpectedExit(): string | undefined;
  /** Stops it (SIGTERM, then SIGKILL) and whatever was made for it. */
  stop(): Promise<void>;
}

/** bench/server.ts: the service. */
export interface ServerProcess extends ChildServer {
  database: 'pglite' | 'postgres';
  /** The temporary PostgreSQL database's name (PostgreSQL only). */
  postgresDatabase?: string;
  /** The per-run key of the bench-only seed route. */
  seedKey: string;
  /** The password every seeded user has. */
  password: string;
  /** Set when the child was started with --cpu-prof. */
  cpuProfileDir?: string;
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

/**
 * Runs a child's node under another program: `command ...args node <node arguments>` (the
 * `--instructions` mode runs the servers under valgrind). The child's pid is the wrapper's,
 * which must exec node in the same process, as valgrind does.
 */
export interface Wrapper {
  command: string;
  args: string[];
  /** node options added before the child's own (e.g. V8 flags the wrapper needs). */
  nodeFlags?: string[];
  /** How long start-up may take before the server serves (default 150 s: a first start on PGlite runs initdb, slow on a busy machine). */
  readyTimeoutMs?: number;
}

/**
 * What a bench server's run owns outside its process, made once: DATA_DIR, the temporary
 * PostgreSQL database, the keys, the seed key, so the same server can be started more than
 * once on the same data (the `--instructions` mode seeds with one start, measures with another).
 */
export interface ServerSetup {
  database: 'pglite' | 'postgres';
  /** The temporary PostgreSQL database's name (PostgreSQL only). */
  postgresDatabase?: string;
  seedKey: string;
  password: string;
  /** The child's environment on top of the inherited variables (HOST and PORT are added at spawn). */
  env: Record<string, string>;
  /** Drops the temporary database and deletes DATA_DIR (stop the server first). */
  cleanup(): Promise<void>;
}

/** Makes DATA_DIR, the temporary database (with `databaseUrl`), the keys and the seed key of one run. */
export async function prepareServer(options: Pick<StartOptions, 'databaseUrl' | 'log'>): Promise<ServerSetup> {
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
    const seedKey = randomBytes(24).toString('base64url');
    const password = `bench-${randomBytes(9).toString('base64url')}`;
    return {
      database: databaseUrl ? 'postgres' : 'pglite',
      postgresDatabase,
      seedKey,
      password,
      env: {
        DATA_DIR: dataDir,
        LOG_LEVEL: BENCH_LOG_LEVEL,
        RATE_LIMIT: 'off',
        // BENCH_ACCESS_ALGORITHM=EdDSA|ES256: access tokens signed with a development key the server generates into DATA_DIR.
        ...(process.env.BENCH_ACCESS_ALGORITHM
          ? { JWT_ACCESS_ALGORITHM: process.env.BENCH_ACCESS_ALGORITHM }
          : { JWT_ACCESS_SECRET: randomBytes(32).toString('base64url') }),
        JWT_REFRESH_SECRET: randomBytes(32).toString('base64url'),
        // Tokens are minted once at seed time; they must outlive a long run.
        ACCESS_TOKEN_TTL: '2h',
        BENCH_SEED_KEY: seedKey,
        BENCH_PASSWORD: password,
        ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      },
      cleanup,
    };
  } catch (error) {
    await cleanup();
    throw error;
  }
}

/**
 * Starts bench/server.ts on `setup`'s data and keys, on a free port: the node command line
 * `npm start` uses (pool-priority preload) plus --expose-gc and `nodeFlags`, optionally under
 * a wrapper. Stopping it leaves `setup` in place.
 */
export function spawnBenchServer(
  setup: ServerSetup,
  options: { repoRoot: string; log: (line: string) => void; nodeFlags?: string[]; wrapper?: Wrapper; name?: string },
): Promise<ChildServer> {
  return spawnServer({
    name: options.name ?? 'bench server',
    label: 'server',
    repoRoot: options.repoRoot,
    args: [...(options.nodeFlags ?? []), '--expose-gc', '--require', './src/runtime/pool-priority.cjs', '--import', 'tsx', 'bench/server.ts'],
    env: setup.env,
    readyPath: '/health',
    log: options.log,
    wrapper: options.wrapper,
  });
}

/** Starts bench/server.ts as a child process on a free port with its own data and keys. */
export async function startServer(options: StartOptions): Promise<ServerProcess> {
  const setup = await prepareServer(options);
  try {
    // Outside DATA_DIR, which is deleted at stop: the profile is read after the server exits.
    const cpuProfileDir = options.cpuProfile ? mkdtempSync(join(tmpdir(), 'versioned-auth-cpu-profile-')) : undefined;
    const nodeFlags = cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfileDir}`] : [];
    const child = await spawnBenchServer(setup, { repoRoot: options.repoRoot, log: options.log, nodeFlags });
    let stopped: Promise<void> | undefined;
    return {
      ...child,
      database: setup.database,
      postgresDatabase: setup.postgresDatabase,
      seedKey: setup.seedKey,
      password: setup.password,
      cpuProfileDir,
      stop: () => (stopped ??= child.stop().then(() => setup.cleanup())),
    };
  } catch (error) {
    await setup.cleanup();
    throw error;
  }
}

/**
 * Starts one reference server (bench/reference/server.ts) in its own process: the bench
 * server's node flags, except the argon2 pool's priority preload (it hashes nothing), no
 * database, the same log level. `answer` is what its GET /me answers.
 */
export function startReferenceServer(
  name: ReferenceScenario,
  options: { repoRoot: string; answer: MeAnswer; log: (line: string) => void; wrapper?: Wrapper },
): Promise<ChildServer> {
  return spawnServer({
    name: `reference server ${name}`,
    label: name,
    repoRoot: options.repoRoot,
    args: ['--expose-gc', '--import', 'tsx', 'bench/reference/server.ts', name],
    env: { LOG_LEVEL: BENCH_LOG_LEVEL, ME_ANSWER: JSON.stringify(options.answer) },
    readyPath: '/me',
    log: options.log,
    wrapper: options.wrapper,
  });
}

interface SpawnOptions {
  name: string;
  /** Prefix of its forwarded output lines. */
  label: string;
  repoRoot: string;
  /** node's arguments: flags, then the script and its arguments. */
  args: string[];
  /** Added to the inherited variables; HOST and PORT are set here. */
  env: Record<string, string>;
  /** Answers 200 once the server serves. */
  readyPath: string;
  log: (line: string) => void;
  /** Runs node under this program (valgrind); unset: node itself. */
  wrapper?: Wrapper;
}

/** Starts a server script with node on a free port of 127.0.0.1; resolves once it serves `readyPath`. */
async function spawnServer(options: SpawnOptions): Promise<ChildServer> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = Object.fromEntries(
    INHERITED.filter((name) => process.env[name] !== undefined).map((name) => [name, process.env[name]]),
  );
  Object.assign(env, { HOST: '127.0.0.1', PORT: String(port) }, options.env);
  const [command, args] = options.wrapper
    ? [options.wrapper.command, [...options.wrapper.args, process.execPath, ...(options.wrapper.nodeFlags ?? []), ...options.args]]
    : [process.execPath, options.args];
  const child = spawn(command, args, { cwd: options.repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
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
      options.log(`[${options.label}] ${line}`);
    }
  };
  child.stdout!.on('data', forward);
  child.stderr!.on('data', forward);
  const stop = async () => {
    stopping = true;
    if (running) await stopChild(child, exited);
  };

  const baseUrl = `http://127.0.0.1:${port}`;
  try {
    const timeoutMs = options.wrapper?.readyTimeoutMs ?? 150_000;
    await waitUntilServing(options.name, `${baseUrl}${options.readyPath}`, () => running, () => output.join('\n'), timeoutMs);
  } catch (error) {
    await stop();
    throw error;
  }
  return { name: options.name, pid: child.pid!, baseUrl, env, unexpectedExit: () => exitedAs, stop };
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function waitUntilServing(name: string, url: string, running: () => boolean, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!running()) throw new Error(`the ${name} exited during start-up:\n${output()}`);
    try {
      const response = await fetch(url);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the ${name} did not serve ${new URL(url).pathname} within ${Math.round(timeoutMs / 1000)} s:\n${output()}`);
}

/** A port nobody listens on right now (the kernel's choice). */
export function freePort(): Promise<number> {
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
