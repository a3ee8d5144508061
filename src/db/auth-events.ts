import { randomUUID } from 'node:crypto';
import type { Db } from './client.js';
import { authEvents, type AuthEventType } from './schema.js';

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
