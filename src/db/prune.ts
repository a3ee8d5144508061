import { sql, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Config } from '../config/index.js';
import { CLOCK_SKEW_SECONDS } from '../tokens/claims.js';
import type { Database, Db } from './client.js';
import { REVOCATION_ROW_KEEP_WINDOWS } from './revocations.js';
import { authEvents, revocations, sessions } from './schema.js';

/** Rows one DELETE removes at most: short statements, short row locks, well inside the pool's statement timeout. */
export const PRUNE_BATCH = 1000;

/** The expression `sessions_ended_at_idx` indexes: when the session stopped being refreshable. */
export const SESSION_ENDED_AT = sql`least(${sessions.revokedAt}, ${sessions.expiresAt})`;

/** How many rows a prune removed from each table. */
export interface PruneCounts {
  sessions: number;
  authEvents: number;
  revocations: number;
}

/** The cut-offs: rows that ended (or were written) before each are deleted. */
export interface PruneCutoffs {
  sessionsEndedBefore: Date;
  authEventsBefore: Date;
  revocationsBefore: Date;
}

/**
 * Deletes, batch by batch, the sessions that ended before the cut-off, the security-log
 * entries and the revocation rows older than theirs. Each batch is its own statement and
 * commits alone; `stop()` is asked between batches (a closing server does not wait for a
 * backlog).
 */
export async function pruneTables(db: Db, cutoffs: PruneCutoffs, stop: () => boolean = () => false): Promise<PruneCounts> {
  const at = (date: Date) => sql`${date.toISOString()}::timestamptz`;
  return {
    sessions: await deleteInBatches(db, sessions, sessions.id, sql`${SESSION_ENDED_AT} < ${at(cutoffs.sessionsEndedBefore)}`, stop),
    authEvents: await deleteInBatches(db, authEvents, authEvents.id, sql`${authEvents.at} < ${at(cutoffs.authEventsBefore)}`, stop),
    revocations: await deleteInBatches(db, revocations, revocations.id, sql`${revocations.createdAt} < ${at(cutoffs.revocationsBefore)}`, stop),
  };
}

/**
 * One batch of `table`'s rows matching `where`, deleted by primary key; repeated until a batch
 * comes up short. `= any(array(…))`, not `in (…)`: the batch is found through the index on
 * `where`'s expression and deleted through the primary key, where `in` may hash-join the
 * whole table to delete a thousand rows.
 */
async function deleteInBatches(
  db: Db,
  table: PgTable,
  id: PgColumn,
  where: SQL,
  stop: () => boolean,
): Promise<number> {
  let total = 0;
  for (;;) {
    const result = await db.execute(sql`
      with deleted as (
        delete from ${table} where ${id} = any(array(select ${id} from ${table} where ${where} limit ${PRUNE_BATCH}))
        returning 1
      )
      select count(*)::int as n from deleted`);
    const n = (result as unknown as { rows: { n: number }[] }).rows[0]?.n ?? 0;
    total += n;
    if (n < PRUNE_BATCH || stop()) return total;
  }
}

/** Arbitrary constant naming the advisory lock held while one instance prunes. */
export const PRUNE_LOCK = 7_310_482_332;

/**
 * Seconds after its end that a session row is still needed. Until every access token of the
 * session has expired (ACCESS_TOKEN_TTL + the verifier's clock skew), GET /auth/sessions and the
 * logout routes may still be called with one; and a rotated token must find its session for the
 * whole reuse grace. After that a refresh token of a deleted session is refused all the same
 * (`token_expired` by its own `exp`, or `token_revoked`: no live session).
 */
export function sessionRetentionSeconds(config: Pick<Config, 'jwt' | 'refreshReuseGrace'>): number {
  return Math.max(config.jwt.accessTtl + CLOCK_SKEW_SECONDS, config.refreshReuseGrace);
}

/** Where each table is cut at `now` (epoch ms). */
export function pruneCutoffs(config: Pick<Config, 'jwt' | 'refreshReuseGrace' | 'auditRetention'>, now: number): PruneCutoffs {
  return {
    sessionsEndedBefore: new Date(now - sessionRetentionSeconds(config) * 1000),
    authEventsBefore: new Date(now - config.auditRetention * 1000),
    revocationsBefore: new Date(now - REVOCATION_ROW_KEEP_WINDOWS * (config.jwt.accessTtl + CLOCK_SKEW_SECONDS) * 1000),
  };
}

/**
 * One maintenance run: prunes every bounded table at the config's clock's now, unless another
 * instance is pruning (then `skipped`, and nothing is deleted here).
 */
export async function pruneNow(
  database: Database,
  config: Pick<Config, 'jwt' | 'refreshReuseGrace' | 'auditRetention' | 'clock'>,
  stop?: () => boolean,
): Promise<{ skipped: false; counts: PruneCounts } | { skipped: true }> {
  const run = await database.exclusively(PRUNE_LOCK, () => pruneTables(database.db, pruneCutoffs(config, config.clock.now()), stop));
  return run.ran ? { skipped: false, counts: run.value } : { skipped: true };
}
