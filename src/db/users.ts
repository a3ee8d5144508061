import { and, eq, sql } from 'drizzle-orm';
import type { Db } from './client.js';
import { changeRecordingRevocations, type RevocationEvent } from './revocations.js';
import { users, type User } from './schema.js';

export interface NewUser {
  id: string;
  email: string;
  passwordHash: string;
  now: Date;
}

/** A version bump as a revocation event (the statement also records it): columns `id` and `refresh_token_version`. */
const VERSION_BUMPED = { kind: 'user_version', userId: 'id', refreshTokenVersion: 'refresh_token_version' } as const;

const newVersion = (events: RevocationEvent[]) => {
  const [event] = events;
  return event?.kind === 'user_version' ? event.refreshTokenVersion : undefined;
};

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
     * Password change: the new hash, the version bump and its revocation record in one statement, so no refresh
     * token from before survives the new password. Only if the hash is still the one the
     * current password was checked against; returns the new version, or undefined.
     */
    async changePassword(id: string, oldHash: string, newHash: string, now: Date): Promise<number | undefined> {
      const change = db
        .update(users)
        .set({ passwordHash: newHash, refreshTokenVersion: sql`${users.refreshTokenVersion} + 1`, updatedAt: now })
        .where(and(eq(users.id, id), eq(users.passwordHash, oldHash)))
        .returning({ id: users.id, refreshTokenVersion: users.refreshTokenVersion });
      return newVersion(await changeRecordingRevocations(db, change, VERSION_BUMPED, now));
    },

    /** Deletes the user, and with it (ON DELETE CASCADE) every session, recording the revocation, in one statement. */
    async delete(id: string, verifiedHash: string, now: Date): Promise<boolean> {
      const change = db
        .delete(users)
        .where(and(eq(users.id, id), eq(users.passwordHash, verifiedHash)))
        .returning({ id: users.id });
      return (await changeRecordingRevocations(db, change, { kind: 'user_deleted', userId: 'id' }, now)).length === 1;
    },

    /**
     * Logout-everywhere, recorded as a revocation. One atomic statement: from its commit on, every refresh token
     * carrying an older version fails the rotation compare-and-swap on every instance.
     * Bumps only from `fromVersion` (the caller's token's); returns the new version, or
     * undefined when the user no longer exists or is already past that version.
     */
    async bumpRefreshTokenVersion(id: string, fromVersion: number, now: Date): Promise<number | undefined> {
      const change = db
        .update(users)
        .set({ refreshTokenVersion: sql`${users.refreshTokenVersion} + 1`, updatedAt: now })
        .where(and(eq(users.id, id), eq(users.refreshTokenVersion, fromVersion)))
        .returning({ id: users.id, refreshTokenVersion: users.refreshTokenVersion });
      return newVersion(await changeRecordingRevocations(db, change, VERSION_BUMPED, now));
    },
  };
}

export type UsersRepository = ReturnType<typeof createUsersRepository>;
