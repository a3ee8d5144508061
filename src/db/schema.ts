import { sql } from 'drizzle-orm';
import { bigint, index, integer, pgTable, primaryKey, text, timestamp, uuid } from 'drizzle-orm/pg-core';

const instant = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const users = pgTable('users', {
  id: uuid('id').primaryKey(),
  /** Trimmed and lower-cased before it gets here. */
  email: text('email').notNull().unique(),
  passwordHash: text('password_hash').notNull(),
  /** Every refresh token carries this; bumping it signs the user out everywhere. */
  refreshTokenVersion: integer('refresh_token_version').notNull().default(0),
  createdAt: instant('created_at').notNull(),
  updatedAt: instant('updated_at').notNull(),
});

/** One row per signed-in device. */
export const sessions = pgTable(
  'sessions',
  {
    id: uuid('id').primaryKey(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    /** The user's version when this session signed in; the session is live only while it matches. */
    refreshTokenVersion: integer('refresh_token_version').notNull(),
    /** `jti` of the one refresh token that may rotate next. */
    refreshJti: uuid('refresh_jti').notNull(),
    /** `jti` it replaced, honoured until `rotated_at` + the reuse grace. */
    previousJti: uuid('previous_jti'),
    rotatedAt: instant('rotated_at'),
    createdAt: instant('created_at').notNull(),
    lastUsedAt: instant('last_used_at').notNull(),
    /** Absolute end of the session; rotation never extends it. */
    expiresAt: instant('expires_at').notNull(),
    revokedAt: instant('revoked_at'),
    userAgent: text('user_agent'),
    ip: text('ip'),
  },
  (table) => [
    index('sessions_user_id_idx').on(table.userId),
    // The pruner's one predicate: when the session stopped being refreshable (least() skips a null revoked_at).
    index('sessions_ended_at_idx').on(sql`least(${table.revokedAt}, ${table.expiresAt})`),
  ],
);

/**
 * Where each user last signed in with a password, by client address (IPv4, or an IPv6
 * /64): the evidence that lets a known address still try once the account is over its
 * failed-login cap. Kept apart from `sessions`, whose rows are revoked and pruned.
 */
export const signInAddresses = pgTable(
  'sign_in_addresses',
  {
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    address: text('address').notNull(),
    signedInAt: instant('signed_in_at').notNull(),
  },
  (table) => [primaryKey({ columns: [table.userId, table.address] })],
);

/**
 * One row per revocation event, written in the transaction that causes it and announced
 * with NOTIFY at its commit: what every instance needs to refuse access tokens that still
 * verify. No foreign key: a deleted user's row must outlive the user. Rows older than
 * ACCESS_TOKEN_TTL + the clock skew are of no more use (every token they name has expired).
 */
export const revocations = pgTable(
  'revocations',
  {
    id: bigint('id', { mode: 'number' }).primaryKey().generatedAlwaysAsIdentity(),
    /** `user_version` (logout-all, password change), `user_deleted`, or `session` (one session signed out). */
    kind: text('kind', { enum: ['user_version', 'user_deleted', 'session'] }).notNull(),
    userId: uuid('user_id').notNull(),
    /** For `session`: the session whose access tokens die. */
    sessionId: uuid('session_id'),
    /** For `user_version`: the lowest version still valid; tokens carrying less die. */
    refreshTokenVersion: integer('refresh_token_version'),
    /** On the injected clock of the instance that wrote it. */
    createdAt: instant('created_at').notNull(),
  },
  (table) => [index('revocations_created_at_idx').on(table.createdAt)],
);

/** What `auth_events.type` may say. */
export const AUTH_EVENT_TYPES = [
  'register',
  'login',
  'refresh_reused',
  'logout',
  'logout_all',
  'logout_others',
  'session_revoked',
  'password_changed',
  'account_deleted',
] as const;
export type AuthEventType = (typeof AUTH_EVENT_TYPES)[number];

/**
 * The security log a user can read (GET /auth/events) and an operator can query: one row per
 * event, written in the transaction of the change it records. No foreign key: `account_deleted`
 * outlives the user (and no row ever holds an email). `user_id` is null only for an event that
 * belongs to no account (a failed login for an unknown email, if one is ever recorded).
 */
export const authEvents = pgTable(
  'auth_events',
  {
    id: uuid('id').primaryKey(),
    userId: uuid('user_id'),
    type: text('type', { enum: AUTH_EVENT_TYPES }).notNull(),
    /** For a failed login: the refusal's `code` (`invalid_credentials`, `rate_limited`). */
    code: text('code'),
    sessionId: uuid('session_id'),
    ip: text('ip'),
    userAgent: text('user_agent'),
    /** On the injected clock. */
    at: instant('at').notNull(),
  },
  (table) => [
    // A user's log newest first, and the keyset cursor (at, id) that pages through it.
    index('auth_events_user_at_idx').on(table.userId, table.at.desc(), table.id.desc()),
    // Retention pruning.
    index('auth_events_at_idx').on(table.at),
  ],
);

export type User = typeof users.$inferSelect;
export type Session = typeof sessions.$inferSelect;
export type Revocation = typeof revocations.$inferSelect;
export type AuthEvent = typeof authEvents.$inferSelect;
