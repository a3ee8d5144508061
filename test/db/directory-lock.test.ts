import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/index.js';
import { openDatabase, type Database } from '../../src/db/client.js';
import { lockDirectory } from '../../src/db/directory-lock.js';
import { preparedPgliteDirectory, removePreparedDirectories } from '../helper.js';

const root = new URL('../..', import.meta.url);
const base = mkdtempSync(join(tmpdir(), 'versioned-auth-lock-'));
const children: ChildProcess[] = [];
const open: Database[] = [];
let count = 0;

afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await Promise.all(open.splice(0).map((database) => database.close().catch(() => {})));
});
afterAll(async () => {
  rmSync(base, { recursive: true, force: true });
  await removePreparedDirectories();
});

/** A fresh embedded-database directory (as DATA_DIR/pglite) that does not exist yet. */
const freshDir = () => join(base, `data-${++count}`, 'pglite');

async function openPglite(dataDir: string): Promise<Database> {
  const database = await openDatabase({ kind: 'pglite', dataDir });
  open.push(database);
  return database;
}

/** The ConfigError a refused open throws, checked against the contract: names DATA_DIR, one line. */
async function refusal(dataDir: string): Promise<ConfigError> {
  const error = await openPglite(dataDir).then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  expect(error, 'the second open should have been refused').toBeInstanceOf(ConfigError);
  const configError = error as ConfigError;
  expect(configError.variable).toBe('DATA_DIR');
  expect(configError.message).toMatch(/^DATA_DIR: /);
  expect(configError.message).not.toMatch(/[\r\n]/);
  return configError;
}

/** Runs test/support/hold-database.ts on `dataDir` in its own process; resolves with its first line. */
async function holdInChild(dataDir: string): Promise<{ child: ChildProcess; line: string; exited: Promise<number | null> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/support/hold-database.ts', dataDir], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      if (out.includes('\n')) resolve(out.split('\n')[0]!);
    });
    child.on('exit', (code) => reject(new Error(`the child exited (${code}) before opening: ${out}`)));
  });
  return { child, line, exited };
}

/** The pid of a process that has already exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await new Promise((resolve) => child.on('exit', resolve));
  return child.pid!;
}

const lockFile = (dataDir: string) => `${dataDir}.lock`;
const lockOwner = (dataDir: string) => JSON.parse(readFileSync(lockFile(dataDir), 'utf8')).pid as number;

describe('the embedded database directory lock', () => {
  it('refuses a second open in the same process until the first is closed', { timeout: 90_000 }, async () => {
    const dataDir = await preparedPgliteDirectory();
    const first = await openPglite(dataDir);
    const error = await refusal(dataDir);
    expect(error.message).toContain(dataDir);

    await first.close();
    expect(existsSync(lockFile(dataDir))).toBe(false);
    const again = await openPglite(dataDir);
    await again.ping();
  });

  it('refuses while another process holds it, naming its pid; opens once that process has closed', { timeout: 90_000 }, async () => {
    const dataDir = await preparedPgliteDirectory();
    const holder = await holdInChild(dataDir);
    expect(holder.line).toBe('open');

    const error = await refusal(dataDir);
    expect(error.message).toContain(`pid ${holder.child.pid}`);
    expect(error.message).toContain(lockFile(dataDir));

    holder.child.kill('SIGTERM');
    expect(await holder.exited).toBe(0);
    expect(existsSync(lockFile(dataDir))).toBe(false);
    await (await openPglite(dataDir)).ping();
  });

  it('is refused to another process while this one holds it', { timeout: 90_000 }, async () => {
    const dataDir = await preparedPgliteDirectory();
    await openPglite(dataDir);
    const other = await holdInChild(dataDir).catch((error: Error) => ({ line: error.message }));
    expect(other.line).toContain('refused: DATA_DIR: ');
    expect(other.line).toContain(`pid ${process.pid}`);
  });

  it('takes over the lock of a process that was killed holding it', { timeout: 90_000 }, async () => {
    const dataDir = await preparedPgliteDirectory();
    const holder = await holdInChild(dataDir);
    holder.child.kill('SIGKILL');
    await holder.exited;
    expect(lockOwner(dataDir)).toBe(holder.child.pid);

    await (await openPglite(dataDir)).ping();
    expect(lockOwner(dataDir)).toBe(process.pid);
  });

  it.each([
    ['a dead pid', async () => JSON.stringify({ pid: await deadPid(), token: 'stale' })],
    // An earlier process with the same pid: a container's pid 1, restarted.
    ['our own pid, from an earlier process', async () => JSON.stringify({ pid: process.pid, token: 'stale' })],
    ['content that names no process', async () => 'not a lock file'],
  ])('takes over a stale lock file holding %s, and removes it on release', async (_case, content) => {
    const dataDir = freshDir();
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(lockFile(dataDir), await content());

    const lock = lockDirectory(dataDir);
    expect(lockOwner(dataDir)).toBe(process.pid);
    lock.release();
    expect(existsSync(lockFile(dataDir))).toBe(false);
  });

  it('leaves a lock file that is no longer its own in place on release', () => {
    const dataDir = freshDir();
    mkdirSync(dataDir, { recursive: true });
    const lock = lockDirectory(dataDir);
    const other = JSON.stringify({ pid: process.pid + 1, token: 'someone else' });
    writeFileSync(lockFile(dataDir), other);
    lock.release();
    expect(readFileSync(lockFile(dataDir), 'utf8')).toBe(other);
  });
});
