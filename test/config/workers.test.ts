import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/index.js';
import { MAX_WORKERS, workerCount } from '../../src/config/workers.js';

const DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/auth';

describe('WORKERS', () => {
  it('defaults to one process, on either database', () => {
    expect(loadConfig({}).workers).toBe(1);
    expect(loadConfig({ DATABASE_URL }).workers).toBe(1);
    expect(loadConfig({ WORKERS: '1' }).workers).toBe(1);
  });

  it.each([
    ['2', 2],
    [' 4 ', 4],
    [String(MAX_WORKERS), MAX_WORKERS],
    ['auto', availableParallelism()],
    ['AUTO', availableParallelism()],
  ])('takes %j with DATABASE_URL', (value, expected) => {
    expect(loadConfig({ DATABASE_URL, WORKERS: value }).workers).toBe(expected);
  });

  it.each(['0', '-1', '257', '1000', '1.5', 'two', '2x', '0x2', 'true'])('refuses %j with one line naming WORKERS', (value) => {
    const error = captured(() => loadConfig({ DATABASE_URL, WORKERS: value }));
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toMatch(/^WORKERS: /);
    expect(error.message).not.toMatch(/[\r\n]/);
  });

  it.each(['2', 'auto'])('refuses %j on the embedded database, which is one process', (value) => {
    const error = captured(() => loadConfig({ WORKERS: value }));
    expect(error.message).toMatch(/^WORKERS: .*needs DATABASE_URL/);
  });

  it('refuses auto without DATABASE_URL even on one CPU, so the machine does not decide whether it starts', () => {
    expect(() => workerCount('auto', false)).toThrow(ConfigError);
    expect(workerCount('1', false)).toBe(1);
  });
});

function captured(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('did not throw');
}
