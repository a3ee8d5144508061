import { asc, gt, sql, type SQLWrapper } from 'drizzle-orm';
import type { Db } from './client.js';
import { revocations } from './schema.js';

/** The NOTIFY channel every instance LISTENs on. */
export const REVOCATION_CHANNEL = 'versioned_auth_revocations';

/** What makes access tokens die before they expire; `at` is epoch ms on the writer's clock. */
export type RevocationEvent =
  | { kind: 'user_version'; userId: string; refreshTokenVersion: number; at: number }
  | { kind: 'user_deleted'; userId: string; at: number }
  | { kind: 'session'; userId: string; sessionId: string; at: number };

/** Where, in the rows a change returns, an event's fields are (column names). */
export interface RevocationColumns {
  kind: RevocationEvent['kind'];
  userId: string;
  sessionId?: string;
  refreshTokenVersion?: string;
}

/**
 * Runs `change` (an UPDATE or DELETE … RETURNING) and, in the SAME statement, writes one
 * revocation row per row it returned and announces each with `pg_notify`: the rows and the
 * notifications exist exactly when the change commits (NOTIFY is delivered at commit, never
 * on rollback). Returns the events written.
 */
export async function changeRecordingRevocations(
  db: Db,
  change: SQLWrapper,
  columns: RevocationColumns,
  now: Date,
): Promise<RevocationEvent[]> {
  const column = (name: string | undefined) => (name === undefined ? sql`null` : sql.identifier(name));
  const result = await db.execute(sql`
    with changed as ${change},
    inserted as (
      insert into ${revocations} (kind, user_id, session_id, refresh_token_version, created_at)
      select ${columns.kind}::text, ${column(columns.userId)}, ${column(columns.sessionId)}, ${column(columns.refreshTokenVersion)},
             ${now.toISOString()}::timestamptz
      from changed
      returning kind, user_id, session_id, refresh_token_version, created_at
    )
    select kind, user_id, session_id, refresh_token_version,
           pg_notify(${REVOCATION_CHANNEL}, json_build_object(
             'kind', kind, 'userId', user_id, 'sessionId', session_id,
             'refreshTokenVersion', refresh_token_version,
             'at', floor(extract(epoch from created_at) * 1000)
           )::text)
    from inserted`);
  const rows = (result as unknown as { rows: { kind: string; user_id: string; session_id: string | null; refresh_token_version: number | null }[] }).rows;
  const at = now.getTime();
  return rows.flatMap((row) => {
    const event = toEvent({ kind: row.kind, userId: row.user_id, sessionId: row.session_id, refreshTokenVersion: row.refresh_token_version, at });
    return event ? [event] : [];
  });
}

/** The events written after `since`, oldest first (what an instance reloads on start and after a reconnect). */
export async function revocationsSince(db: Db, since: Date): Promise<RevocationEvent[]> {
  const rows = await db.select().from(revocations).where(gt(revocations.createdAt, since)).orderBy(asc(revocations.createdAt), asc(revocations.id));
  const events: RevocationEvent[] = [];
  for (const row of rows) {
    const event = toEvent({ ...row, at: row.createdAt.getTime() });
    if (event) events.push(event);
  }
  return events;
}

/**
 * Rows are kept for this many windows (the window, ACCESS_TOKEN_TTL + the clock skew, is the
 * guarantee), then deleted by the maintenance job (src/db/prune.ts) and `sessions prune`.
 */
export const REVOCATION_ROW_KEEP_WINDOWS = 2;

/** A row or a NOTIFY payload as an event; undefined for anything malformed. */
export function toEvent(raw: {
  kind?: unknown;
  userId?: unknown;
  sessionId?: unknown;
  refreshTokenVersion?: unknown;
  at?: unknown;
}): RevocationEvent | undefined {
  const { kind, userId, sessionId, refreshTokenVersion, at } = raw;
  if (typeof userId !== 'string' || typeof at !== 'number' || !Number.isFinite(at)) return undefined;
  if (kind === 'user_deleted') return { kind, userId, at };
  if (kind === 'session' && typeof sessionId === 'string') return { kind, userId, sessionId, at };
  if (kind === 'user_version' && Number.isSafeInteger(refreshTokenVersion)) {
    return { kind, userId, refreshTokenVersion: refreshTokenVersion as number, at };
  }
  return undefined;
}

/** Parses a NOTIFY payload; undefined for anything that is not one of ours. */
export function parseRevocationPayload(payload: string | undefined): RevocationEvent | undefined {
  if (!payload) return undefined;
  try {
    return toEvent(JSON.parse(payload) as Record<string, unknown>);
  } catch {
    return undefined;
  }
}
