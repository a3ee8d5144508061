import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { generateAccessPrivateKey } from '../config/access-keys.js';
import { AdminError, usageError, type Output } from './context.js';

/** 32 random bytes as hex: 256 bits, well over what NODE_ENV=production requires. */
const secret = () => randomBytes(32).toString('hex');

/**
 * `keys generate [--algorithm HS256|EdDSA|ES256] [--out FILE]`: new production keys, as
 * environment lines. HS256: both secrets. EdDSA/ES256: a private key, written to `--out`
 * (created with mode 0600, never over an existing file) and named in the lines, or printed as
 * PEM alone when there is no `--out`; the refresh secret in either case (with --json).
 */
export function generateKeys(options: { algorithm?: string; out?: string }): Output {
  const algorithm = (['HS256', 'EdDSA', 'ES256'] as const).find((name) => name.toLowerCase() === (options.algorithm ?? 'HS256').toLowerCase());
  if (!algorithm) throw usageError(`--algorithm ${JSON.stringify(options.algorithm)} must be one of HS256, EdDSA, ES256`);
  if (algorithm === 'HS256') {
    if (options.out !== undefined) throw usageError('--out is for --algorithm EdDSA or ES256 (HS256 secrets are printed)');
    const env = { JWT_ACCESS_SECRET: secret(), JWT_REFRESH_SECRET: secret() };
    return { text: envLines(env), json: { env } };
  }
  const pem = generateAccessPrivateKey(algorithm);
  const refresh = secret();
  if (options.out === undefined) {
    return { text: pem.trimEnd(), json: { env: { JWT_ACCESS_ALGORITHM: algorithm, JWT_REFRESH_SECRET: refresh }, privateKey: pem } };
  }
  const path = resolve(options.out);
  try {
    writeFileSync(path, pem, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new AdminError('failure', `${path} already exists: keys are never written over; choose another --out`);
    throw new AdminError('failure', `cannot write ${path} (${code ?? 'error'})`);
  }
  const env = { JWT_ACCESS_ALGORITHM: algorithm, JWT_ACCESS_PRIVATE_KEYS: path, JWT_REFRESH_SECRET: refresh };
  return { text: envLines(env), json: { env } };
}

const envLines = (env: Record<string, string>) => Object.entries(env).map(([name, value]) => `${name}=${value}`).join('\n');
