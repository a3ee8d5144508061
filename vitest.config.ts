import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Fails a file whose answers its routes do not declare (test/support/declared-responses.ts).
    setupFiles: ['test/support/declared-responses-setup.ts'],
    // Prepares the PGlite directory every test database copies (initdb once per run).
    globalSetup: ['test/support/pglite-template.ts'],
    pool: 'forks',
    // Files spend much of their time waiting (argon2's threads, child processes, PGlite's
    // start): two at once on two cores keeps both busy; vitest's default would run one.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    // argon2 at OWASP cost and a fresh database per file take a moment on two cores.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
