import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';

const root = new URL('../..', import.meta.url);

/** UV_THREADPOOL_SIZE as a process started like `npm start` (with the preload) sees it. */
function poolSize(env: Record<string, string>): string {
  const run = spawnSync(process.execPath, ['--require', './src/runtime/pool-priority.cjs', '-e', 'process.stdout.write(String(process.env.UV_THREADPOOL_SIZE))'], {
    cwd: root,
    env: { PATH: process.env.PATH, ...env },
    encoding: 'utf8',
    timeout: 20_000,
  });
  expect(run.status, run.stderr).toBe(0);
  return run.stdout;
}

describe('the thread-pool preload', () => {
  it('sizes libuv\'s pool to the cores, at most libuv\'s default of 4, so idle hashing threads keep no argon2 blocks beyond them', () => {
    expect(poolSize({})).toBe(String(Math.min(4, availableParallelism())));
  });

  it('leaves an operator\'s UV_THREADPOOL_SIZE alone', () => {
    expect(poolSize({ UV_THREADPOOL_SIZE: '7' })).toBe('7');
  });
});
