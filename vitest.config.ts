import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Fails a file whose answers its routes do not declare (test/support/declared-responses.ts).
    setupFiles: ['test/support/declared-responses-setup.ts'],
    pool: 'forks',
    // argon2 at OWASP cost and a fresh database per file take a moment on two cores.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
