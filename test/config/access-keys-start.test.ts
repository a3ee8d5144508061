import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { newAccessKey } from '../support/access-keys.js';

const root = new URL('../..', import.meta.url);
const dir = mkdtempSync(join(tmpdir(), 'versioned-auth-keys-start-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs src/server.ts as `npm start` would and waits for it to exit (it must not start: PORT 1 would need privileges anyway). */
function start(env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, PORT: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (chunk) => (stdout += chunk));
  proc.stderr!.on('data', (chunk) => (stderr += chunk));
  const timer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
  return new Promise((resolve) =>
    proc.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    }),
  );
}

describe('npm start with EdDSA access keys refuses, in one line and exit 1', () => {
  it('a key file of the wrong type, without its contents', async () => {
    const wrong = newAccessKey('ES256');
    const file = join(dir, 'p256.pem');
    writeFileSync(file, wrong.pem, { mode: 0o600 });
    const result = await start({ DATA_DIR: join(dir, 'a'), JWT_ACCESS_ALGORITHM: 'EdDSA', JWT_ACCESS_PRIVATE_KEYS: file });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toEqual([
      `versioned-auth: invalid configuration: JWT_ACCESS_PRIVATE_KEYS: key 1 (${JSON.stringify(file)}) is a P-256 key, but JWT_ACCESS_ALGORITHM=EdDSA needs an Ed25519 key (openssl genpkey -algorithm ed25519)`,
    ]);
    expect(result.stdout + result.stderr).not.toContain(wrong.pem.split('\n')[1]);
  }, 60_000);

  it('a DATA_DIR where the development key cannot be written', async () => {
    const notADirectory = join(dir, 'a-file');
    writeFileSync(notADirectory, '');
    const result = await start({ DATA_DIR: join(notADirectory, 'data'), JWT_ACCESS_ALGORITHM: 'EdDSA' });
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^versioned-auth: cannot start: DATA_DIR: cannot use \S+ \(ENOTDIR\)/);
    expect(result.stderr).not.toContain('    at ');
  }, 60_000);
});
