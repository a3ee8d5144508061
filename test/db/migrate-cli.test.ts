import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url);
const dataDir = mkdtempSync(join(tmpdir(), 'va-migrate-'));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** `npm run db:migrate` as built (`npm test` builds first). */
function migrate(env: Record<string, string>) {
  const result = spawnSync(process.execPath, ['dist/db/migrate-cli.js'], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('npm run db:migrate', () => {
  it('applies the migrations to an embedded database and exits 0', () => {
    const result = migrate({ DATA_DIR: join(dataDir, 'ok') });
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe('migrations applied (pglite)');
    expect(result.code).toBe(0);
  });

  it.each([
    ['a refused connection', { DATABASE_URL: 'postgres://postgres:hunter2-secret@127.0.0.1:1/auth' }, /^versioned-auth: cannot migrate: DATABASE_URL: nothing accepts connections at 127\.0\.0\.1:1/],
    ['a bad value', { ACCESS_TOKEN_TTL: 'soon' }, /^versioned-auth: cannot migrate: ACCESS_TOKEN_TTL: /],
  ])('answers %s with one line naming the variable, no stack, exit 1', (_case, env, line) => {
    const result = migrate({ DATA_DIR: join(dataDir, 'refused'), ...env });
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines, result.stderr).toHaveLength(1);
    expect(lines[0]).toMatch(line);
    expect(result.stderr + result.stdout).not.toContain('    at ');
    expect(result.stderr + result.stdout).not.toContain('hunter2-secret');
  });
});
