import { readFileSync, rmSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_SECRET, REFRESH_SECRET, runDirectory, seedDataDir, TEST_DATABASE_URL } from '../helper.js';
import { freePort, workerPids } from '../multi-instance/processes.js';
import { spawnLogged, type LoggedProcess } from '../support/logged-process.js';
import { createTemporaryDatabase } from '../support/temporary-database.js';

/**
 * `npm start` as npm runs it: package.json's start script through sh (the built server; `npm
 * run build` first, `npm test` does). What the script sets is read back from the running
 * processes' /proc/<pid>/environ and cmdline: glibc's malloc reads MALLOC_ARENA_MAX only when a
 * process starts, so the script, not the server, must set it (docs/operations.md, Memory).
 */
const root = new URL('../..', import.meta.url);
const startScript = (JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { scripts: { start: string } }).scripts.start;

const environ = (pid: number) => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
const argv = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);

describe.skipIf(process.platform !== 'linux')('npm start', () => {
  const dataDir = runDirectory('start');
  let databaseUrl: string | undefined;
  let drop = async () => {};
  let running: LoggedProcess | undefined;

  beforeAll(async () => {
    if (!TEST_DATABASE_URL) return seedDataDir(dataDir);
    const database = await createTemporaryDatabase(TEST_DATABASE_URL, 'start_script');
    databaseUrl = database.url;
    drop = database.drop;
  });
  afterEach(async () => {
    if (running && running.proc.exitCode === null && running.proc.signalCode === null) {
      running.proc.kill('SIGTERM');
      await running.exited;
    }
    running = undefined;
  });
  afterAll(async () => {
    await drop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** Runs the start script (`exec`: sh becomes env, which becomes node, so the pid is the server's); resolves once `readyWhen` is logged. */
  async function npmStart(env: Record<string, string>, readyWhen = 'versioned-auth ready'): Promise<LoggedProcess> {
    running = spawnLogged('sh', ['-c', `exec ${startScript}`], {
      cwd: root,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        HOST: '127.0.0.1',
        PORT: String(await freePort()),
        LOG_LEVEL: 'info',
        RATE_LIMIT: 'off',
        JWT_ACCESS_SECRET: ACCESS_SECRET,
        JWT_REFRESH_SECRET: REFRESH_SECRET,
        DATA_DIR: dataDir,
        ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
        ...env,
      },
    });
    const server = running;
    let gone = false;
    void server.exited.then(() => (gone = true));
    // Generous: a server start is slow on a busy machine.
    const deadline = performance.now() + 120_000;
    while (!server.lines.some((line) => line.includes(readyWhen))) {
      if (gone || performance.now() > deadline) throw new Error(`server did not start: ${server.stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return server;
  }

  /** What the script must give every server process. */
  function expectStartedAsNpmStartDoes(pid: number, arenas: string) {
    expect(environ(pid)).toContain(`MALLOC_ARENA_MAX=${arenas}`);
    const [, ...args] = argv(pid);
    // A cluster worker runs the primary's flags on the primary's script, by its absolute path.
    expect(args.slice(0, -1)).toEqual(['--max-semi-space-size=4', '--require', './dist/runtime/pool-priority.cjs']);
    expect(args.at(-1)).toMatch(/(^|\/)dist\/server\.js$/);
  }

  it('gives the server one glibc malloc arena, V8 semi-spaces of 4 MiB and the thread-pool preload', async () => {
    const server = await npmStart({});
    expectStartedAsNpmStartDoes(server.proc.pid!, '1');
  }, 150_000);

  it("keeps an operator's MALLOC_ARENA_MAX", async () => {
    const server = await npmStart({ MALLOC_ARENA_MAX: '4' });
    expectStartedAsNpmStartDoes(server.proc.pid!, '4');
  }, 150_000);

  // WORKERS refuses the embedded database.
  it.skipIf(!TEST_DATABASE_URL)('gives each WORKERS=2 worker what it gives one server', async () => {
    const primary = await npmStart({ WORKERS: '2' }, 'versioned-auth cluster ready');
    const workers = workerPids(primary.lines);
    expect(new Set(workers).size).toBeGreaterThanOrEqual(2);
    for (const pid of new Set(workers)) expectStartedAsNpmStartDoes(pid, '1');
  }, 150_000);
});
