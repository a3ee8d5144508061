import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { ConfigError } from '../config/index.js';

/**
 * PostgreSQL settings PGlite starts with, on top of its own defaults. shared_buffers is
 * PostgreSQL's 128 MB default, all of it touched at start inside PGlite's WebAssembly memory;
 * 16 MB cuts the embedded server's memory by about 130 MiB (docs/operations.md, Memory), and
 * the pages it no longer caches stay in the operating system's file cache.
 */
export const PGLITE_SETTINGS = ['-c', 'shared_buffers=16MB'];

/** Whatever a data directory PostgreSQL made holds; a directory without it is no database. */
const MARKER = 'PG_VERSION';

/** Runs in the short-lived child: creates the data directory (initdb) and exits. CommonJS, so it runs from src and dist alike. */
const CHILD_SOURCE = `
const [modulePath, dir, params] = process.argv.slice(1);
const { PGlite } = require(modulePath);
PGlite.create(dir, { startParams: JSON.parse(params) })
  .then((pg) => pg.close())
  .then(
    () => process.exit(0),
    (error) => {
      const code = typeof error?.code === 'string' ? error.code : undefined;
      process.stderr.write('\\n' + JSON.stringify({ message: String(error?.message ?? error), code, path: error?.path }) + '\\n');
      process.exit(1);
    },
  );
`;

export interface PrepareOptions {
  /** PGlite's start parameters (PGlite.defaultStartParams plus PGLITE_SETTINGS). */
  startParams: string[];
  /** Tests only: sees the child once it runs (to kill it halfway). */
  onChild?: (child: ChildProcess) => void;
}

/**
 * Makes `dataDir` a PGlite data directory unless it is one, in a short-lived child process:
 * initdb holds about 750 MiB while it runs, which the server's own process would otherwise
 * keep for its whole life. The child works in a temporary directory next to `dataDir`, which
 * is renamed into place only once the child exited cleanly, so a crash, a kill or a full disk
 * halfway leaves no directory that looks like a database. The caller holds `dataDir`'s lock
 * (src/db/directory-lock.ts): temporary directories beside it are leftovers of a crash, removed.
 */
export async function preparePgliteDirectory(dataDir: string, options: PrepareOptions): Promise<void> {
  if (existsSync(join(dataDir, MARKER))) return;
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
    throw new ConfigError(
      'DATA_DIR',
      `${dataDir} holds files but no database (no ${MARKER}), perhaps from a first start that was interrupted: remove that directory, or set DATA_DIR to another one`,
    );
  }
  const parent = dirname(dataDir);
  mkdirSync(parent, { recursive: true, mode: 0o700 });
  removeLeftovers(parent, tempPrefix(dataDir));
  const temp = `${tempPrefix(dataDir)}${process.pid}-${randomBytes(4).toString('hex')}`;
  mkdirSync(temp, { mode: 0o700 });
  try {
    await runInitdb(temp, dataDir, options);
    // An empty directory (made by an operator or an older version) gives way to the prepared one.
    if (existsSync(dataDir)) rmdirSync(dataDir);
    renameSync(temp, dataDir);
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

const tempPrefix = (dataDir: string) => join(dirname(dataDir), `.${basename(dataDir)}.initdb-`);

function removeLeftovers(parent: string, prefix: string): void {
  const name = basename(prefix);
  for (const entry of readdirSync(parent)) {
    if (entry.startsWith(name)) rmSync(join(parent, entry), { recursive: true, force: true });
  }
}

function runInitdb(temp: string, dataDir: string, options: PrepareOptions): Promise<void> {
  const modulePath = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  // No execArgv: the server's preloads and flags (--cpu-prof, the thread-priority preload) are not the child's.
  const child = spawn(process.execPath, ['-e', CHILD_SOURCE, modulePath, temp, JSON.stringify(options.startParams)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  options.onChild?.(child);
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-8192);
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) return resolve();
      if (signal) {
        return reject(
          new ConfigError(
            'DATA_DIR',
            `creating the embedded database in ${dataDir} was stopped by ${signal} (out of memory? that first start needs about 800 MiB once): free memory or set DATABASE_URL, then start again`,
          ),
        );
      }
      reject(childError(stderr, dataDir));
    });
  });
}

/** The child's last line, as an Error that keeps its system error code and path (a full disk is a one-line start-up failure). */
function childError(stderr: string, dataDir: string): Error {
  const last = stderr.trim().split('\n').pop() ?? '';
  let reported: { message?: string; code?: string; path?: string } = {};
  try {
    reported = JSON.parse(last) as typeof reported;
  } catch {
    reported = { message: last };
  }
  const error = new Error(`creating the embedded database in ${dataDir} failed: ${reported.message ?? 'no message'}`) as NodeJS.ErrnoException;
  if (reported.code) error.code = reported.code;
  if (reported.path) error.path = dataDir;
  return error;
}
