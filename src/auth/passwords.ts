import argon2 from 'argon2';
import { randomBytes } from 'node:crypto';
import type { PasswordHashingConfig } from '../config/index.js';

export interface PasswordHasher {
  hash(password: string): Promise<string>;
  verify(hash: string, password: string): Promise<boolean>;
  /** True when the hash was made with other parameters (or another argon2 variant) than today's. */
  needsRehash(hash: string): boolean;
  /** Spends exactly the work of a failed verify, for an unknown email. */
  verifyDummy(password: string): Promise<void>;
}

/** argon2id with the configured cost; argon2 runs on libuv's thread pool, off the event loop. */
export async function createPasswordHasher(params: PasswordHashingConfig): Promise<PasswordHasher> {
  const options = { type: argon2.argon2id as 2, ...params };
  const hash = (password: string) => argon2.hash(password, options);
  // A real hash of a random secret: verifying against it costs what a wrong password costs.
  const dummyHash = await hash(randomBytes(32).toString('base64url'));
  return {
    hash,
    verify: (stored, password) => argon2.verify(stored, password),
    needsRehash: (stored) => !stored.startsWith('$argon2id$') || argon2.needsRehash(stored, params),
    verifyDummy: async (password) => {
      await argon2.verify(dummyHash, password);
    },
  };
}
