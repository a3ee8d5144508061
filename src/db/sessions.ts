import { and, desc, eq, gt, isNull, ne, sql, type SQL } from 'drizzle-orm';
import type { Db } from './client.js';
import { changeRecordingRevocations } from './revocations.js';
import { sessions, signInAddresses, users } from './schema.js';

export interface DeviceInfo {
  userAgent: string | null;
  ip: string | null;
}

export interface NewSession extends DeviceInfo {
  id: string;
  /** The client's address as the login limits key it, remembered as a known sign-in address (none when null). */
  address: string | null;
  /** Known sign-in addresses of this user last used before this are forgotten. */
  forgetBefore: Date;
  userId: string;
  refreshJti: string;
  now: Date;
  expiresAt: Date;
}

export interface Rotation extends DeviceInfo {
  sessionId: string;
  userId: string;
  /** Version and jti the presented refresh token carries. */
  refreshTokenVersion: number;
  jti: string;
  nextJti: string;
  now: Date;
}

/** What the slow path of a refresh needs to tell grace, reuse and revocation apart. */
export interface RefreshState {
  refreshJti: string;
  previousJti: string | null;
  rotatedAt: Date | null;
  revokedAt: Date | null;
  expiresAt: Date;
  userVersion: number;
  email: string;
}

/** A session the user can still refresh: not revoked, not past its end, minted at the user's current version. */
function live(userId: string, now: Date): SQL {
  return and(
    eq(sessions.userId, userId),
    isNull(sessions.revokedAt),
    gt(sessions.expiresAt, now),
    eq(sessions.refreshTokenVersion, sql`(select ${users.refreshTokenVersion} from ${users} where ${users.id} = ${userId})`),
  )!;
}

/**
 * The refresh compare-and-swap, one statement: the presented jti becomes the previous one
 * and `nextJti` the current, only if the session is live, that jti is its current one and
 * the user's version still equals the token's. The share lock on the user row orders it
 * against a concurrent version bump, so no token with an outdated version is minted after
 * the bump commits. Built and prepared once per database: it is the busiest statement.
 */
function buildRotation(db: Db) {
  const p = (name: keyof Rotation) => sql.placeholder(name);
  const owner = db.$with('owner').as(
    db
      .select({ id: users.id, email: users.email })
      .from(users)
      .where(and(eq(users.id, p('userId')), eq(users.refreshTokenVersion, p('refreshTokenVersion'))))
      .for('share'),
  );
  return db
    .with(owner)
    .update(sessions)
    .set({
      previousJti: sql`${sessions.refreshJti}`,
      refreshJti: sql`${p('nextJti')}::uuid`,
      rotatedAt: sql`${p('now')}::timestamptz`,
      lastUsedAt: sql`${p('now')}::timestamptz`,
      userAgent: sql`${p('userAgent')}::text`,
      ip: sql`${p('ip')}::text`,
    })
    .from(owner)
    .where(
      and(
        eq(sessions.id, p('sessionId')),
        eq(sessions.userId, owner.id),
        eq(sessions.refreshJti, p('jti')),
        isNull(sessions.revokedAt),
        gt(sessions.expiresAt, sql`${p('now')}::timestamptz`),
      ),
    )
    .returning({ email: owner.email, expiresAt: sessions.expiresAt })
    .prepare('rotate_refresh_token');
}

const rotations = new WeakMap<Db, ReturnType<typeof buildRotation>>();
function rotationStatement(db: Db) {
  let statement = rotations.get(db);
  if (!statement) rotations.set(db, (statement = buildRotation(db)));
  return statement;
}

/** A revoked session's row as a revocation event: its columns `id` and `user_id`. */
const SESSION_REVOKED = { kind: 'session', userId: 'user_id', sessionId: 'id' } as const;

/** Queries on `sessions`; `db` may be a transaction. */
export function createSessionsRepository(db: Db) {
  return {
    /** The user's live sessions (devices), newest first. */
    async listLive(userId: string, now: Date) {
      return db
        .select({
          id: sessions.id,
          createdAt: sessions.createdAt,
          lastUsedAt: sessions.lastUsedAt,
          expiresAt: sessions.expiresAt,
          userAgent: sessions.userAgent,
          ip: sessions.ip,
        })
        .from(sessions)
        .where(live(userId, now))
        .orderBy(desc(sessions.createdAt), desc(sessions.id));
    },

    /** Revokes one of the user's live sessions, recording the revocation; false when there is no such live session. */
    async revokeLive(sessionId: string, userId: string, now: Date): Promise<boolean> {
      const change = db
        .update(sessions)
        .set({ revokedAt: now })
        .where(and(eq(sessions.id, sessionId), live(userId, now)))
        .returning({ id: sessions.id, userId: sessions.userId });
      return (await changeRecordingRevocations(db, change, SESSION_REVOKED, now)).length === 1;
    },

    /** Revokes every live session of the user but one, recording each revocation; returns how many it revoked. */
    async revokeOthers(userId: string, keepSessionId: string, now: Date): Promise<number> {
      const change = db
        .update(sessions)
        .set({ revokedAt: now })
        .where(and(ne(sessions.id, keepSessionId), live(userId, now)))
        .returning({ id: sessions.id, userId: sessions.userId });
      return (await changeRecordingRevocations(db, change, SESSION_REVOKED, now)).length;
    },

    /**
     * Creates a session stamped with the user's refresh token version as it is at insert
     * time, read under a share lock in the same statement: a concurrent version bump either
     * commits first (and the session gets the new version) or waits for this one (and
     * revokes it). The same statement remembers the client's address as one the user
     * signed in from, and forgets the user's other addresses older than `forgetBefore`.
     * Returns the version the session's tokens must carry, or undefined when the user no
     * longer exists (deleted since the password was checked).
     */
    async insert(s: NewSession): Promise<number | undefined> {
      const now = s.now.toISOString();
      const result = await db.execute(sql`
        with session as (
          insert into ${sessions} (id, user_id, refresh_token_version, refresh_jti, created_at, last_used_at, expires_at, user_agent, ip)
          select ${s.id}::uuid, id, refresh_token_version, ${s.refreshJti}::uuid, ${now}::timestamptz,
                 ${now}::timestamptz, ${s.expiresAt.toISOString()}::timestamptz, ${s.userAgent}::text, ${s.ip}::text
          from ${users} where id = ${s.userId} for share
          returning user_id, refresh_token_version
        ), known as (
          insert into ${signInAddresses} (user_id, address, signed_in_at)
          select user_id, ${s.address}::text, ${now}::timestamptz from session where ${s.address}::text is not null
          on conflict (user_id, address) do update set signed_in_at = excluded.signed_in_at
        ), forgotten as (
          delete from ${signInAddresses}
          where user_id = ${s.userId} and signed_in_at <= ${s.forgetBefore.toISOString()}::timestamptz
            and address is distinct from ${s.address}::text
        )
        select refresh_token_version from session`);
      const [row] = (result as unknown as { rows: { refresh_token_version: number }[] }).rows;
      return row?.refresh_token_version;
    },

    /** The refresh compare-and-swap (see buildRotation); undefined when any condition fails. */
    async rotate(r: Rotation): Promise<{ email: string; expiresAt: Date } | undefined> {
      const [row] = await rotationStatement(db).execute({ ...r });
      return row;
    },

    /**
     * Reads a session and its user with both rows locked; call inside a transaction. The
     * user row is locked first, as every other statement here does (the rotation's share
     * lock, the version bump, a cascading delete), so the two can never deadlock.
     */
    async lockForRefresh(sessionId: string, userId: string): Promise<RefreshState | undefined> {
      const [user] = await db
        .select({ version: users.refreshTokenVersion, email: users.email })
        .from(users)
        .where(eq(users.id, userId))
        .for('share');
      if (!user) return undefined;
      const [session] = await db
        .select({
          refreshJti: sessions.refreshJti,
          previousJti: sessions.previousJti,
          rotatedAt: sessions.rotatedAt,
          revokedAt: sessions.revokedAt,
          expiresAt: sessions.expiresAt,
        })
        .from(sessions)
        .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId)))
        .for('no key update');
      return session && { ...session, userVersion: user.version, email: user.email };
    },

    /**
     * Revokes one of the user's sessions, recording the revocation; idempotent (a second call
     * records nothing). True when this call revoked it.
     */
    async revoke(sessionId: string, userId: string, now: Date): Promise<boolean> {
      const change = db
        .update(sessions)
        .set({ revokedAt: now })
        .where(and(eq(sessions.id, sessionId), eq(sessions.userId, userId), isNull(sessions.revokedAt)))
        .returning({ id: sessions.id, userId: sessions.userId });
      return (await changeRecordingRevocations(db, change, SESSION_REVOKED, now)).length === 1;
    },
  };
}

export type SessionsRepository = ReturnType<typeof createSessionsRepository>;
