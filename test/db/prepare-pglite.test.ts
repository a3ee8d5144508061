import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/index.js';
import { openDatabase, type Database } from '../../src/db/client.js';
import { PGLITE_SETTINGS, preparePgliteDirectory } from '../../src/db/prepare-pglite.js';
import { ACCESS_SECRET, PASSWORD, REFRESH_SECRET, uniqueEmail } from '../helper.js';

// The embedded database's directory, whichever database the suite runs on: PostgreSQL has none.
const root = new URL('../..', import.meta.url);
const base = mkdtempSync(join(tmpdir(), 'versioned-auth-prepare-'));
const children: ChildProcess[] = [];
const open: Database[] = [];
let count = 0;
let startParams: string[];

afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await Promise.all(open.splice(0).map((database) => database.close().catch(() => {})));
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

/** A fresh DATA_DIR/pglite that does not exist yet. */
const freshDir = () => join(base, `data-${++count}`, 'pglite');

async function params(): Promise<string[]> {
  const { PGlite } = await import('@electric-sql/pglite');
  return (startParams ??= [...PGlite.defaultStartParams, ...PGLITE_SETTINGS]);
}

/** Prepares `dataDir`, counting the child processes it started. */
async function prepare(dataDir: string, onChild?: (child: ChildProcess) => void): Promise<number> {
  let started = 0;
  await preparePgliteDirectory(dataDir, {
    startParams: await params(),
    onChild: (child) => {
      started += 1;
      onChild?.(child);
    },
  });
  return started;
}

/** Entries beside `dataDir` other than itself (temporary directories of a preparation). */
const besides = (dataDir: string) => readdirSync(dirname(dataDir)).filter((name) => name !== 'pglite');

async function waitFor(condition: () => boolean, ms: number, why: () => string = () => '') {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting: ${why()}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('preparing the embedded database directory', () => {
  it('runs initdb in a child process on a first start, and a second start reuses the directory', { timeout: 240_000 }, async () => {
    const dataDir = freshDir();
    expect(await prepare(dataDir)).toBe(1);
    expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);
    expect(besides(dataDir)).toEqual([]);

    expect(await prepare(dataDir)).toBe(0);
    const database = await openDatabase({ kind: 'pglite', dataDir });
    open.push(database);
    await database.migrate();
    await database.ping();
  });

  it('leaves nothing that looks like a database when the child is killed halfway, and the next start succeeds', { timeout: 240_000 }, async () => {
    const dataDir = freshDir();
    const error = await prepare(dataDir, (child) => {
      // Killed once initdb has written files into its temporary directory.
      const poll = setInterval(() => {
        const temp = besides(dataDir)[0];
        if (temp && readdirSync(join(dirname(dataDir), temp)).length > 0) {
          clearInterval(poll);
          child.kill('SIGKILL');
        }
      }, 5);
      child.once('exit', () => clearInterval(poll));
    }).then(
      () => undefined,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(/^DATA_DIR: .*SIGKILL/);
    expect((error as ConfigError).message).not.toMatch(/[\r\n]/);
    expect(existsSync(dataDir)).toBe(false);
    expect(besides(dataDir)).toEqual([]);

    expect(await prepare(dataDir)).toBe(1);
    expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);
  });

  it('removes what a process that died while preparing left beside the directory', { timeout: 180_000 }, async () => {
    const dataDir = freshDir();
    const leftover = join(dirname(dataDir), '.pglite.initdb-999999-deadbeef');
    mkdirSync(leftover, { recursive: true });
    writeFileSync(join(leftover, 'PG_VERSION'), '18\n');
    expect(await prepare(dataDir)).toBe(1);
    expect(existsSync(leftover)).toBe(false);
    expect(besides(dataDir)).toEqual([]);
  });

  it('refuses a directory that holds files but no database, naming DATA_DIR, and starts no child', async () => {
    const dataDir = freshDir();
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(join(dataDir, 'base'), 'half of an interrupted initdb');
    let started = 0;
    const error = await prepare(dataDir, () => (started += 1)).catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toMatch(/^DATA_DIR: .*no database/);
    expect(started).toBe(0);
  });
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** The built server as `npm start` runs it (`npm run build` first; `npm test` does). */
function startBuilt(dataDir: string, port: number) {
  const proc = spawn(process.execPath, ['--require', './dist/runtime/pool-priority.cjs', 'dist/server.js'], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      HOST: '127.0.0.1',
      PORT: String(port),
      DATA_DIR: dataDir,
      LOG_LEVEL: 'info',
      JWT_ACCESS_SECRET: ACCESS_SECRET,
      JWT_REFRESH_SECRET: REFRESH_SECRET,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (chunk) => (stdout += chunk));
  proc.stderr!.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', resolve));
  let code: number | null | undefined;
  void exited.then((value) => (code = value));
  return { proc, exited, ready: () => stdout.includes('versioned-auth ready'), code: () => code, output: () => stdout + stderr, stderr: () => stderr };
}

describe('two servers started at once on an empty DATA_DIR', () => {
  it('one prepares the embedded database and serves; the other refuses with one line naming DATA_DIR', { timeout: 240_000 }, async () => {
    const dataDir = join(base, `data-${++count}`);
    const ports = [await freePort(), await freePort()];
    const servers = ports.map((port) => startBuilt(dataDir, port));
    await waitFor(
      () => servers.some((s) => s.ready()) && servers.some((s) => s.code() !== undefined),
      230_000,
      () => servers.map((s) => s.output()).join('\n---\n'),
    );
    const winner = servers.findIndex((s) => s.ready());
    const loser = servers[1 - winner]!;
    expect(loser.code()).toBe(1);
    expect(loser.stderr().trim()).toMatch(/^versioned-auth: cannot start: DATA_DIR: .* is in use by another process \(pid \d+\)/);
    expect(loser.stderr().trim()).not.toMatch(/[\r\n]/);

    const baseUrl = `http://127.0.0.1:${ports[winner]}`;
    expect((await fetch(`${baseUrl}/ready`)).status).toBe(200);
    const registered = await fetch(`${baseUrl}/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: uniqueEmail(), password: PASSWORD }),
    });
    expect(registered.status).toBe(201);
    expect(existsSync(join(dataDir, 'pglite', 'PG_VERSION'))).toBe(true);
    expect(readdirSync(dataDir).filter((name) => name.includes('initdb'))).toEqual([]);
  });
});
