import { randomUUID } from 'node:crypto';
import type { DatabaseConfig } from '../../src/config/index.js';
import { openDatabase } from '../../src/db/client.js';
import type { RevocationEvent } from '../../src/db/revocations.js';
import { revocations } from '../../src/db/schema.js';

/**
 * The mix of a window's revocations the bench fills lists and tables with, out of every 20:
 * 12 sessions signed out (logout, DELETE /auth/sessions/:id, logout-others, reuse), 7
 * logout-alls or password changes (a user's lowest valid version), 1 deleted account.
 * Every id is a fresh random UUID, as in production, so nothing is shared or interned.
 */
const KINDS: RevocationEvent['kind'][] = [...Array<'session'>(12).fill('session'), ...Array<'user_version'>(7).fill('user_version'), 'user_deleted'];

/** The i-th of `count` events, written `spreadMs` apart at most before `now` (oldest first). */
export function revocationEvent(i: number, count: number, now: number, spreadMs: number): RevocationEvent {
  const at = Math.round(now - spreadMs + (spreadMs * i) / count);
  const kind = KINDS[i % KINDS.length]!;
  if (kind === 'session') return { kind, userId: randomUUID(), sessionId: randomUUID(), at };
  if (kind === 'user_deleted') return { kind, userId: randomUUID(), at };
  return { kind, userId: randomUUID(), refreshTokenVersion: 1 + (i % 5), at };
}

/** How the mix splits `count` events: list entries by map (sessions, users). */
export function mixOf(count: number): { sessions: number; userVersions: number; deletedUsers: number } {
  const per = (kind: RevocationEvent['kind']) => {
    let n = 0;
    for (let i = 0; i < count; i++) if (KINDS[i % KINDS.length] === kind) n++;
    return n;
  };
  return { sessions: per('session'), userVersions: per('user_version'), deletedUsers: per('user_deleted') };
}

/**
 * Writes `count` revocation rows of the mix (plus `extra`) into a database nobody else has
 * open (PGlite) or any (PostgreSQL), migrating it first: what an instance reloads at start.
 */
export async function insertRevocations(database: DatabaseConfig, count: number, now: number, spreadMs: number, extra: RevocationEvent[] = []): Promise<void> {
  const handle = await openDatabase(database);
  try {
    await handle.migrate();
    const CHUNK = 1000;
    const row = (event: RevocationEvent) => ({
      kind: event.kind,
      userId: event.userId,
      sessionId: event.kind === 'session' ? event.sessionId : null,
      refreshTokenVersion: event.kind === 'user_version' ? event.refreshTokenVersion : null,
      createdAt: new Date(event.at),
    });
    for (let i = 0; i < count; i += CHUNK) {
      const chunk = [];
      for (let j = i; j < Math.min(count, i + CHUNK); j++) chunk.push(row(revocationEvent(j, count, now, spreadMs)));
      await handle.db.insert(revocations).values(chunk);
    }
    if (extra.length) await handle.db.insert(revocations).values(extra.map(row));
  } finally {
    await handle.close();
  }
}
