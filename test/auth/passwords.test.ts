import argon2 from 'argon2';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { OWASP_ARGON2ID } from '../../src/config/index.js';
import { buildTestApp, loginWith, PASSWORD, problem, register, snapshot, uniqueEmail, type TestApp, buildApp } from '../helper.js';

let t: TestApp;
beforeAll(async () => {
  t = await buildTestApp();
});
afterAll(() => t.close());
afterEach(() => vi.restoreAllMocks());

describe('password verification', () => {
  it('runs one argon2 verify for an unknown email, exactly as for a wrong password', async () => {
    const { email } = await register(t.app);
    const verify = vi.spyOn(argon2, 'verify');

    expect(problem(await loginWith(t.app, email, 'wrong password!')).code).toBe('invalid_credentials');
    expect(verify).toHaveBeenCalledTimes(1);
    expect(verify.mock.calls[0]![0]).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);

    verify.mockClear();
    expect(problem(await loginWith(t.app, uniqueEmail('ghost'))).code).toBe('invalid_credentials');
    expect(verify).toHaveBeenCalledTimes(1);
    // Against a dummy hash with the same cost as a real one.
    expect(verify.mock.calls[0]![0]).toMatch(/^\$argon2id\$v=19\$m=19456,p=1,t=2\$/);
  });

  it('refuses a password over 128 characters before any argon2 work', async () => {
    const hash = vi.spyOn(argon2, 'hash');
    const verify = vi.spyOn(argon2, 'verify');
    const res = await loginWith(t.app, uniqueEmail(), 'x'.repeat(129));
    expect(res.statusCode).toBe(400);
    expect(problem(res).code).toBe('validation_failed');
    expect(hash).not.toHaveBeenCalled();
    expect(verify).not.toHaveBeenCalled();
  });
});

describe('rehash on login', () => {
  it('upgrades a hash made with older parameters to the current ones, and the password still works', async () => {
    const weak = { memoryCost: 4096, timeCost: 1, parallelism: 1 };
    const legacy = await buildApp({ ...t.config, passwordHashing: weak }, { database: t.database });
    const email = uniqueEmail();
    try {
      const { user } = await register(legacy, email);
      const hashOf = async () => (await snapshot(t.database)).users.find((u) => u.id === user.id)!.passwordHash;
      expect(await hashOf()).toMatch(/\$m=4096,p=1,t=1\$/);

      expect(t.config.passwordHashing).toEqual(OWASP_ARGON2ID);
      expect((await loginWith(t.app, email)).statusCode).toBe(200);
      expect(await hashOf()).toMatch(/\$m=19456,p=1,t=2\$/);
      expect((await loginWith(t.app, email)).statusCode).toBe(200);
    } finally {
      await legacy.close();
    }
  });
});
