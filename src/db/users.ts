import { and, eq, sql } from 'drizzle-orm';
import type { Db } from './client.js';
import { users, type User } from './schema.js';

export interface NewUser {
  id: string;
  email: string;
  passwordHash: string;
  now: Date;
}

/** Queries on `users`; `db` may be a transaction. */
export function createUsersRepository(db: Db) {
  return {
    /** Inserts the user, or returns undefined when the email is taken. */
    async insert({ id, email, passwordHash, now }: NewUser): Promise<User | undefined> {
      const [user] = await db
        .insert(users)
        .values({ id, email, passwordHash, createdAt: now, updatedAt: now })
        .onConflictDoNothing({ target: users.email })
        .returning();
      return user;
    },

    async findById(id: string): Promise<User | undefined> {
      const [user] = await db.select().from(users).where(eq(users.id, id));
      return user;
    },

    async findByEmail(email: string): Promise<User | undefined> {
      const [user] = await db.select().from(users).where(eq(users.email, email));
      return user;
    },

    /** Upgrades a hash to today's parameters, unless the password changed meanwhile. */
    async replacePasswordHash(id: string, oldHash: string, newHash: string, now: Date): Promise<void> {
      await db
        .update(users)
        .set({ passwordHash: newHash, updatedAt: now })
        .where(and(eq(users.id, id), eq(users.passwordHash, oldHash)));
    },

    /**
     * Password change: the new hash and the version bump in one statement, so no refresh
     * token from before survives the new password. Only if the hash is still the one the
     * current password was checked against; returns the new version, or undefined.
     */
    async changePassword(id: string, oldHash: string, newHash: string, now: Date): Promise<number | undefined> {
      const [row] = await db
        .update(users)
        .set({ passwordHash: newHash, refreshTokenVersion: sql`${users.refreshTokenVersion} + 1`, updatedAt: now })
        .where(and(eq(users.id, id), eq(users.passwordHash, oldHash)))
        .returning({ refreshTokenVersion: users.refreshTokenVersion });
      return row?.refreshTokenVersion;
    },

    /** Deletes the user, and with it (ON DELETE CASCADE) every session, in one statement. */
    async delete(id: string, verifiedHash: string): Promise<boolean> {
      const rows = await db
        .delete(users)
        .where(and(eq(users.id, id), eq(users.passwordHash, verifiedHash)))
        .returning({ id: users.id });
      return rows.length === 1;
    },

    /**
     * Logout-everywhere. One atomic statement: from its commit on, every refresh token
     * carrying an older version fails the rotation compare-and-swap on every instance.
     * Bumps only from `fromVersion` (the caller's token's); returns the new version, or
     * undefined when the user no longer exists or is already past that version.
     */
    async bumpRefreshTokenVersion(id: string, fromVersion: number, now: Date): Promise<number | undefined> {
      const [row] = await db
        .update(users)
        .set({ refreshTokenVersion: sql`${users.refreshTokenVersion} + 1`, updatedAt: now })
        .where(and(eq(users.id, id), eq(users.refreshTokenVersion, fromVersion)))
        .returning({ refreshTokenVersion: users.refreshTokenVersion });
      return row?.refreshTokenVersion;
    },
  };
}

export type UsersRepository = ReturnType<typeof createUsersRepository>;
