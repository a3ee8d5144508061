import { randomUUID } from 'node:crypto';
import { and, desc, eq, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Db } from './client.js';
import { authEvents, users, type AuthEventType } from './schema.js';

/** One security-log entry to write; `at` is on the injected clock. */
export interface NewAuthEvent {
  userId: string | null;
  type: AuthEventType;
  /** A failed login's refusal code. */
  code?: string | null;
  sessionId?: string | null;
  ip?: string | null;
  userAgent?: string | null;
  at: Date;
}

/** Writes one event; pass the transaction of the change it records as `db`. */
export async function recordAuthEvent(db: Db, event: NewAuthEvent): Promise<void> {
  await db.insert(authEvents).values({ id: randomUUID(), code: null, sessionId: null, ip: null, userAgent: null, ...event });
}

/** A refused sign-in, as `recordLoginFailure` writes it. */
export interface LoginFailure {
  /** As normalised for the lookup; never stored. */
  email: string;
  code: 'invalid_credentials' | 'rate_limited';
  ip: string | null;
  userAgent: string | null;
  at: Date;
}

/**
 * Records a refused sign-in as a `login` event of the account with this email, or of no
 * account (`user_id` null) when there is none: the account is looked up inside the one
 * INSERT, so a known and an unknown email cost the same statement (see src/auth/login.ts).
 */
export async function recordLoginFailure(db: Db, failure: LoginFailure): Promise<void> {
  await db.insert(authEvents).values({
    id: randomUUID(),
    userId: sql`(select ${users.id} from ${users} where ${users.email} = ${failure.email})`,
    type: 'login',
    code: failure.code,
    sessionId: null,
    ip: failure.ip,
    userAgent: failure.userAgent,
    at: failure.at,
  });
}

/** What GET /auth/events shows of an event. */
export interface ListedAuthEvent {
  id: string;
  type: AuthEventType;
  code: string | null;
  sessionId: string | null;
  ip: string | null;
  userAgent: string | null;
  at: Date;
}

export interface AuthEventPage {
  events: ListedAuthEvent[];
  /** The id of the page's last event when older ones exist (the next page's `before`), else null. */
  next: string | null;
}

/**
 * One page of a user's events, newest first, ordered by (`at`, `id`) descending: a total
 * order, so events at the same instant are neither skipped nor repeated across pages. With
 * `before` (an event id), only events after that one in this order; an id that is not one
 * of this user's events (another user's, or pruned) matches nothing and gives an empty page
 * (a pruned cursor's older events are pruned too: retention deletes the oldest first).
 */
export async function listAuthEvents(
  db: Db,
  userId: string,
  page: { limit: number; before?: string },
): Promise<AuthEventPage> {
  const columns = {
    id: authEvents.id,
    type: authEvents.type,
    code: authEvents.code,
    sessionId: authEvents.sessionId,
    ip: authEvents.ip,
    userAgent: authEvents.userAgent,
    at: authEvents.at,
  };
  const mine = eq(authEvents.userId, userId);
  // The cursor's `at`, read in the same statement at the database's own precision; null
  // (so no row matches) when `before` is not one of this user's events.
  const cursor = alias(authEvents, 'cursor');
  const older = (before: string) => {
    const cursorAt = db.select({ at: cursor.at }).from(cursor).where(and(eq(cursor.id, before), eq(cursor.userId, userId)));
    return sql`(${authEvents.at}, ${authEvents.id}) < ((${cursorAt}), ${before}::uuid)`;
  };
  // One row more than asked: whether it exists says whether there is a next page.
  const rows = await db
    .select(columns)
    .from(authEvents)
    .where(page.before === undefined ? mine : and(mine, older(page.before)))
    .orderBy(desc(authEvents.at), desc(authEvents.id))
    .limit(page.limit + 1);
  const events = rows.slice(0, page.limit);
  return { events, next: rows.length > page.limit ? events[events.length - 1]!.id : null };
}
