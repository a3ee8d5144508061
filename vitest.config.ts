import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    // argon2 at OWASP cost and a fresh database per file take a moment on two cores.
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
