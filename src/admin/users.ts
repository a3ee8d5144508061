import { and, asc, desc, eq, gt, ilike, isNull, sql } from 'drizzle-orm';
import { normalizeEmail } from '../auth/credentials.js';
import type { Config } from '../config/index.js';
import { recordAuthEvent } from '../db/auth-events.js';
import type { Database, Db } from '../db/client.js';
import { authEvents, sessions, users, type User } from '../db/schema.js';
import { createUsersRepository } from '../db/users.js';
import { AuthError } from '../errors.js';
import { AdminError, table, usageError, type Output } from './context.js';

/** A concurrent change (a password change, a logout-all) made the statement miss: read again, this many times. */
const ATTEMPTS = 3;

/** `users list [--email-like PATTERN] [--limit N]`: users by email, with their live session count. */
export async function listUsers(database: Database, config: Config, options: { emailLike?: string; limit: number }): Promise<Output> {
  const now = new Date(config.clock.now());
  const liveSessions = sql<number>`(select count(*)::int from ${sessions} where ${and(
    eq(sessions.userId, users.id),
    isNull(sessions.revokedAt),
    gt(sessions.expiresAt, now),
    eq(sessions.refreshTokenVersion, users.refreshTokenVersion),
  )})`;
  const rows = await database.db
    .select({
      id: users.id,
      email: users.email,
      refreshTokenVersion: users.refreshTokenVersion,
      createdAt: users.createdAt,
      liveSessions,
    })
    .from(users)
    .where(options.emailLike === undefined ? undefined : ilike(users.email, options.emailLike))
    .orderBy(asc(users.email))
    .limit(options.limit);
  return {
    text: table(rows, ['email', 'id', 'refreshTokenVersion', 'liveSessions', 'createdAt']),
    json: { users: rows },
  };
}

/** `users show <email>`: the user, every session row still kept (with its state), and the latest security-log events. */
export async function showUser(database: Database, config: Config, email: string, eventLimit: number): Promise<Output> {
  const user = await findUser(database.db, email);
  const now = config.clock.now();
  const rows = await database.db
    .select()
    .from(sessions)
    .where(eq(sessions.userId, user.id))
    .orderBy(desc(sessions.createdAt), desc(sessions.id));
  const userSessions = rows.map((s) => ({
    id: s.id,
    state: s.revokedAt ? 'revoked' : s.expiresAt.getTime() <= now ? 'expired' : s.refreshTokenVersion !== user.refreshTokenVersion ? 'signed_out' : 'live',
    createdAt: s.createdAt,
    lastUsedAt: s.lastUsedAt,
    expiresAt: s.expiresAt,
    revokedAt: s.revokedAt,
    ip: s.ip,
    userAgent: s.userAgent,
  }));
  const events = await database.db
    .select({
      id: authEvents.id,
      type: authEvents.type,
      at: authEvents.at,
      code: authEvents.code,
      sessionId: authEvents.sessionId,
      ip: authEvents.ip,
      userAgent: authEvents.userAgent,
    })
    .from(authEvents)
    .where(eq(authEvents.userId, user.id))
    .orderBy(desc(authEvents.at), desc(authEvents.id))
    .limit(eventLimit);
  const summary = { id: user.id, email: user.email, refreshTokenVersion: user.refreshTokenVersion, createdAt: user.createdAt, updatedAt: user.updatedAt };
  const text = [
    table([summary], ['email', 'id', 'refreshTokenVersion', 'createdAt', 'updatedAt']),
    '',
    `sessions (${userSessions.length}):`,
    table(userSessions, ['id', 'state', 'createdAt', 'lastUsedAt', 'expiresAt', 'ip', 'userAgent']),
    '',
    `recent events (latest ${eventLimit}):`,
    table(events, ['at', 'type', 'code', 'sessionId', 'ip', 'userAgent']),
  ].join('\n');
  return { text, json: { user: summary, sessions: userSessions, events } };
}

/**
 * `users revoke <email>`: logout-everywhere, as POST /auth/logout-all does it: the version bump
 * and its revocation row (announced to every instance at commit) in one statement, and the
 * `logout_all` event in the same transaction.
 */
export async function revokeUser(database: Database, config: Config, email: string): Promise<Output> {
  const revokedAt = new Date(config.clock.now());
  const done = await retried(() =>
    database.db.transaction(async (tx) => {
      const user = await findUser(tx, email);
      const version = await createUsersRepository(tx).bumpRefreshTokenVersion(user.id, user.refreshTokenVersion, revokedAt);
      if (version === undefined) return undefined;
      await recordAuthEvent(tx, { userId: user.id, type: 'logout_all', at: revokedAt });
      return { id: user.id, email: user.email, refreshTokenVersion: version, revokedAt };
    }),
  );
  return {
    text: `${done.email}: signed out everywhere (refresh token version ${done.refreshTokenVersion}); running instances refuse its access tokens within about a second`,
    json: done,
  };
}

/**
 * `users delete <email>`: as DELETE /me does it: the user, its sessions (ON DELETE CASCADE) and
 * the `user_deleted` revocation in one statement, and the `account_deleted` event (no email)
 * in the same transaction.
 */
export async function deleteUser(database: Database, config: Config, email: string): Promise<Output> {
  const deletedAt = new Date(config.clock.now());
  const done = await retried(() =>
    database.db.transaction(async (tx) => {
      const user = await findUser(tx, email);
      if (!(await createUsersRepository(tx).delete(user.id, user.passwordHash, deletedAt))) return undefined;
      await recordAuthEvent(tx, { userId: user.id, type: 'account_deleted', at: deletedAt });
      return { id: user.id, email: user.email, deletedAt };
    }),
  );
  return { text: `${done.email}: deleted (user ${done.id}), with its sessions`, json: done };
}

/** The user of `email` (as emailArgument returns it), or a not-found refusal. */
async function findUser(db: Db, email: string): Promise<User> {
  const user = await createUsersRepository(db).findByEmail(email);
  if (!user) throw new AdminError('not_found', `no user with the email ${email}`);
  return user;
}

/** An email argument normalised as the server normalises emails, or a usage error. */
export function emailArgument(email: string): string {
  try {
    return normalizeEmail(email);
  } catch (error) {
    if (error instanceof AuthError) throw usageError(`${JSON.stringify(email)} is not an email address`);
    throw error;
  }
}

/** Runs `attempt` until it returns a result: undefined means a concurrent change won the race. */
async function retried<T>(attempt: () => Promise<T | undefined>): Promise<T> {
  for (let i = 0; i < ATTEMPTS; i += 1) {
    const result = await attempt();
    if (result !== undefined) return result;
  }
  throw new AdminError('failure', 'the account kept changing under this command: try again');
}
