import { availableParallelism } from 'node:os';
import { ConfigError } from './index.js';

/** More server processes than this on one machine is a typo, not a deployment. */
export const MAX_WORKERS = 256;

/**
 * WORKERS: how many server processes share the port (`node:cluster`); `auto` is one per CPU
 * this process may use. More than one needs DATABASE_URL: the embedded database belongs to
 * one process, so `auto` is refused without it too, whatever the machine.
 */
export function workerCount(value: string, hasDatabaseUrl: boolean): number {
  const lower = value.toLowerCase();
  if (lower !== 'auto' && !/^\d{1,3}$/.test(value)) {
    throw new ConfigError('WORKERS', `${JSON.stringify(value)} is not a number of processes (1 to ${MAX_WORKERS}) or auto`);
  }
  const count = lower === 'auto' ? availableParallelism() : Number(value);
  if (count < 1 || count > MAX_WORKERS) throw new ConfigError('WORKERS', `must be 1 to ${MAX_WORKERS}, or auto`);
  if ((lower === 'auto' || count > 1) && !hasDatabaseUrl) {
    throw new ConfigError('WORKERS', `${lower === 'auto' ? 'auto' : 'more than 1'} needs DATABASE_URL (the embedded database serves one process): set DATABASE_URL, or WORKERS=1`);
  }
  return count;
}
