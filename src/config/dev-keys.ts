import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DevKeys {
  access: string;
  refresh: string;
}

export interface DevKeyFile {
  keys: DevKeys;
  /** True when this call wrote the file; false when it was already there (an earlier start, or a process that won a race). */
  created: boolean;
}

/** Where the development signing keys live inside `dataDir`. */
export function devKeysPath(dataDir: string): string {
  return join(dataDir, 'dev-keys.json');
}

/**
 * Returns the development signing keys kept in `dataDir`, generating them on first use, and
 * whether this call generated them.
 * The file is written whole under a temporary name and then hard-linked into place, which
 * fails if it exists: two processes starting at once agree on one pair of keys.
 */
export function loadOrCreateDevKeys(dataDir: string): DevKeyFile {
  const file = devKeysPath(dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const generated = { access: randomBytes(32).toString('base64url'), refresh: randomBytes(32).toString('base64url') };
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(temp, JSON.stringify(generated, null, 2) + '\n', { mode: 0o600 });
  try {
    linkSync(temp, file);
    return { keys: generated, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    rmSync(temp, { force: true });
  }
  const stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<DevKeys>;
  if (typeof stored.access !== 'string' || typeof stored.refresh !== 'string') {
    throw new Error(`${file} is not a development key file; delete it to generate new keys`);
  }
  return { keys: { access: stored.access, refresh: stored.refresh }, created: false };
}
