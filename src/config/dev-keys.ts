import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface DevKeys {
  access: string;
  refresh: string;
}

/**
 * Returns the development signing keys kept in `dataDir`, generating them on first use.
 * The file is written whole under a temporary name and then hard-linked into place, which
 * fails if it exists: two processes starting at once agree on one pair of keys.
 */
export function loadOrCreateDevKeys(dataDir: string): DevKeys {
  const file = join(dataDir, 'dev-keys.json');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const keys = { access: randomBytes(32).toString('base64url'), refresh: randomBytes(32).toString('base64url') };
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(temp, JSON.stringify(keys, null, 2) + '\n', { mode: 0o600 });
  try {
    linkSync(temp, file);
    return keys;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    rmSync(temp, { force: true });
  }
  const stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<DevKeys>;
  if (typeof stored.access !== 'string' || typeof stored.refresh !== 'string') {
    throw new Error(`${file} is not a development key file; delete it to generate new keys`);
  }
  return { access: stored.access, refresh: stored.refresh };
}
