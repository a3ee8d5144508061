import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AsymmetricAlgorithm } from '../tokens/jwk.js';
import { generateAccessPrivateKey } from './access-keys.js';

export interface DevKeys {
  access: string;
  refresh: string;
}

export interface DevKeyFile<T = DevKeys> {
  keys: T;
  /** True when this call wrote the file; false when it was already there (an earlier start, or a process that won a race). */
  created: boolean;
}

/** Where the development signing keys live inside `dataDir`. */
export function devKeysPath(dataDir: string): string {
  return join(dataDir, 'dev-keys.json');
}

/** Where the development access-token private key for `algorithm` lives inside `dataDir` (one file per algorithm). */
export function devAccessKeyPath(dataDir: string, algorithm: AsymmetricAlgorithm): string {
  return join(dataDir, `dev-access-key-${algorithm.toLowerCase()}.pem`);
}

/**
 * Returns the development HMAC keys kept in `dataDir`, generating them on first use, and
 * whether this call generated them.
 */
export function loadOrCreateDevKeys(dataDir: string): DevKeyFile {
  const file = devKeysPath(dataDir);
  const generated = { access: randomBytes(32).toString('base64url'), refresh: randomBytes(32).toString('base64url') };
  const { text, created } = createOnce(dataDir, file, JSON.stringify(generated, null, 2) + '\n');
  if (created) return { keys: generated, created };
  const stored = JSON.parse(text) as Partial<DevKeys>;
  if (typeof stored.access !== 'string' || typeof stored.refresh !== 'string') {
    throw new Error(`${file} is not a development key file; delete it to generate new keys`);
  }
  return { keys: { access: stored.access, refresh: stored.refresh }, created: false };
}

/**
 * Returns the PEM text of the development access-token private key for `algorithm` kept in
 * `dataDir`, generating it on first use; the caller checks what it reads back.
 */
export function loadOrCreateDevAccessKey(dataDir: string, algorithm: AsymmetricAlgorithm): DevKeyFile<string> {
  const { text, created } = createOnce(dataDir, devAccessKeyPath(dataDir, algorithm), generateAccessPrivateKey(algorithm));
  return { keys: text, created };
}

/**
 * The content of `file`, writing `content` there if it does not exist yet. The file is
 * written whole under a temporary name (mode 0600) and then hard-linked into place, which
 * fails if it exists: two processes starting at once agree on one content.
 */
function createOnce(dataDir: string, file: string, content: string): { text: string; created: boolean } {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
  writeFileSync(temp, content, { mode: 0o600 });
  try {
    linkSync(temp, file);
    return { text: content, created: true };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    rmSync(temp, { force: true });
  }
  return { text: readFileSync(file, 'utf8'), created: false };
}
