import { randomBytes } from 'node:crypto';
import { linkSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { ConfigError } from '../config/index.js';

/** A lock on an embedded database directory, held by this process until `release()`. */
export interface DirectoryLock {
  /** The lock file: `<dir>.lock`, next to the directory. */
  readonly file: string;
  /** Removes the lock file if it is still ours; safe to call twice. */
  release(): void;
}

interface Owner {
  pid: number;
  token: string;
}

/** Lock file → our token, for every lock this process holds. */
const held = new Map<string, string>();
let exitHookInstalled = false;

/**
 * Takes the lock on `dir`, or throws a ConfigError naming DATA_DIR when a live process
 * holds it. Two PGlite instances on one directory would each run and silently split the
 * data, so the second must not start.
 *
 * The lock file holds the owner's pid and is created whole and exclusively (written under
 * a temporary name, then hard-linked into place, which fails if it exists). A process that
 * died without releasing it (SIGKILL, a crash, a power cut) leaves a pid that is no longer
 * alive, and the next process takes the lock over at once; no timer keeps it fresh. The
 * price of pids: a stale lock whose pid now belongs to an unrelated live process is
 * refused until that process exits (the message says which file to remove), and the lock
 * only means something to processes on one machine.
 */
export function lockDirectory(dir: string): DirectoryLock {
  const file = `${dir}.lock`;
  if (held.has(file)) throw lockedError(dir, file, process.pid);
  const token = randomBytes(12).toString('hex');
  const content = `${JSON.stringify({ pid: process.pid, token })}\n`;
  // Each round either takes the lock, refuses, or clears one stale lock; losing a race
  // with another process taking over the same stale lock costs a round.
  for (let round = 0; round < 5; round += 1) {
    if (createExclusively(file, content)) {
      held.set(file, token);
      installExitHook();
      return { file, release: () => release(file, token) };
    }
    const text = readIfExists(file);
    if (text === undefined) continue; // released in between: try again
    const owner = parseOwner(text);
    if (owner && isAlive(owner.pid)) throw lockedError(dir, file, owner.pid);
    moveAsideIfUnchanged(file, text);
  }
  const owner = parseOwner(readIfExists(file) ?? '');
  throw lockedError(dir, file, owner?.pid);
}

/** The ConfigError of a directory another live process (or this one) holds. */
export class DirectoryLockedError extends ConfigError {
  constructor(
    readonly dir: string,
    readonly file: string,
    /** The holder's pid, when the lock file names one. */
    readonly pid: number | undefined,
  ) {
    const by = pid === process.pid ? 'this process' : pid === undefined ? 'another process' : `another process (pid ${pid})`;
    super(
      'DATA_DIR',
      `the embedded database in ${dir} is in use by ${by}: stop it, or give this process another DATA_DIR (remove ${file} only if that process is not running)`,
    );
  }
}

function lockedError(dir: string, file: string, pid: number | undefined): ConfigError {
  return new DirectoryLockedError(dir, file, pid);
}

/** Writes `content` to `file` unless it exists; readers never see it half-written. */
function createExclusively(file: string, content: string): boolean {
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(temp, content, { mode: 0o600 });
  try {
    linkSync(temp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    return false;
  } finally {
    rmSync(temp, { force: true });
  }
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The owner a lock file names; undefined for content that names none (then nothing proves it is held). */
function parseOwner(text: string): Owner | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<Owner>;
    if (Number.isSafeInteger(parsed.pid) && parsed.pid! > 0 && typeof parsed.token === 'string') {
      return { pid: parsed.pid!, token: parsed.token };
    }
  } catch {
    // not ours, or damaged
  }
  return undefined;
}

function isAlive(pid: number): boolean {
  // A lock with our own pid that this process does not hold (checked first) was left by an
  // earlier process that had the same pid: a container's pid 1 restarting, typically.
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code !== 'ESRCH';
  }
}

/**
 * Removes a stale lock file, but only the one we judged stale: it is renamed aside
 * atomically first, and if what was moved is not what we read (another process took the
 * lock over in between), it is linked back into place.
 */
function moveAsideIfUnchanged(file: string, staleText: string): void {
  const aside = `${file}.stale.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    renameSync(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    if (readFileSync(aside, 'utf8') !== staleText) {
      try {
        linkSync(aside, file);
      } catch {
        // A third process locked it meanwhile; it holds the lock now.
      }
    }
  } finally {
    rmSync(aside, { force: true });
  }
}

function release(file: string, token: string): void {
  if (held.get(file) !== token) return;
  held.delete(file);
  const owner = parseOwner(readIfExists(file) ?? '');
  if (owner?.token === token) rmSync(file, { force: true });
}

/** A process that exits without closing its database (process.exit after an error) still releases its locks. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const [file, token] of [...held]) release(file, token);
  });
}
