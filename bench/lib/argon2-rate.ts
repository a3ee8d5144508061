import argon2 from 'argon2';
import { randomBytes } from 'node:crypto';
import { OWASP_ARGON2ID } from '../../src/config/index.js';
import type { LoadResult } from './load.js';
import { percentile } from './stats.js';

export interface Argon2Bench {
  /** Verifies as many times as it can in `seconds`, `concurrency` at a time. */
  run(seconds: number, concurrency: number): Promise<LoadResult>;
}

/**
 * The ceiling for login: argon2id verifies of one hash made with the server's parameters,
 * in parallel on this process's libuv pool (same default size as the server's), with no
 * HTTP and no database. CPU per verify is this process's own user + system time.
 */
export async function createArgon2Bench(): Promise<Argon2Bench> {
  const password = randomBytes(12).toString('base64url');
  const hash = await argon2.hash(password, { type: argon2.argon2id as 2, ...OWASP_ARGON2ID });
  return {
    async run(seconds, concurrency) {
      const latencies: number[] = [];
      let failed = 0;
      const cpuBefore = process.cpuUsage();
      const start = performance.now();
      const end = start + seconds * 1000;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (performance.now() < end) {
            const t = performance.now();
            if (!(await argon2.verify(hash, password))) failed++;
            latencies.push(performance.now() - t);
          }
        }),
      );
      const elapsed = (performance.now() - start) / 1000;
      const cpu = process.cpuUsage(cpuBefore);
      const sorted = Float64Array.from(latencies).sort();
      return {
        requests: latencies.length,
        seconds: elapsed,
        rps: latencies.length / elapsed,
        latency: {
          p50: percentile(sorted, 50),
          p97_5: percentile(sorted, 97.5),
          p99: percentile(sorted, 99),
          mean: latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length),
          max: sorted[sorted.length - 1] ?? 0,
        },
        non2xx: failed,
        errors: 0,
        timeouts: 0,
        statusCodes: {},
        failures: failed ? [`${failed} verifies returned false`] : [],
        cpuUsPerRequest: latencies.length ? (cpu.user + cpu.system) / latencies.length : undefined,
      };
    },
  };
}
