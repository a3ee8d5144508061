import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { DatabaseConfig } from '../../src/config/index.js';
import { createTestDatabase, onPostgres, PASSWORD, refreshWith, register, testConfig, uniqueEmail, buildApp } from '../helper.js';

const dir = mkdtempSync(join(tmpdir(), 'versioned-auth-'));
let drop = async () => {};
afterAll(async () => {
  await drop();
  rmSync(dir, { recursive: true, force: true });
});

describe(`restart on the same ${onPostgres ? 'PostgreSQL database' : 'PGlite directory'}`, () => {
  it('keeps users, sessions and versions, and applies migrations only once', async () => {
    let database: DatabaseConfig = { kind: 'pglite', dataDir: join(dir, 'pglite') };
    if (onPostgres) {
      const testDb = await createTestDatabase();
      database = testDb.config;
      drop = testDb.drop;
    }
    const config = testConfig({ database });

    const first = await buildApp(config);
    const email = uniqueEmail();
    const { refreshToken } = await register(first, email);
    await first.close();

    const second = await buildApp(config);
    try {
      const login = await second.inject({ method: 'POST', url: '/auth/login', payload: { email, password: PASSWORD } });
      expect(login.statusCode).toBe(200);
      expect((await refreshWith(second, refreshToken)).statusCode).toBe(200);
    } finally {
      await second.close();
    }
  });
});
