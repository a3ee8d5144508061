import type { Clock } from '../config/clock.js';
import type { RevocationEvent } from '../db/revocations.js';

/** The claims a revocation check reads. */
export interface RevocableClaims {
  sub: string;
  sid: string;
  refreshTokenVersion: number;
}

interface UserEntry {
  /** Tokens carrying a lower version are revoked; Infinity once the user is deleted. */
  minVersion: number;
  at: number;
}

/**
 * What was revoked within the last window (ACCESS_TOKEN_TTL + the clock skew), in memory:
 * revoked session ids, and per user the lowest refresh token version still valid (Infinity
 * for a deleted user). Older entries are useless (every token they name has expired) and
 * `prune` drops them, so memory is bounded by the revocations of one window. Pure: no I/O,
 * time only from the injected clock.
 */
export class RevocationList {
  private readonly sessions = new Map<string, number>();
  private readonly users = new Map<string, UserEntry>();

  constructor(
    private readonly clock: Clock,
    /** Milliseconds an entry is kept: ACCESS_TOKEN_TTL + the clock skew. */
    readonly windowMs: number,
  ) {}

  /** Idempotent and order-independent: a reload and the live feed may both deliver an event. */
  add(event: RevocationEvent): void {
    if (event.at <= this.clock.now() - this.windowMs) return;
    if (event.kind === 'session') {
      const known = this.sessions.get(event.sessionId);
      if (known === undefined || known < event.at) this.sessions.set(event.sessionId, event.at);
      return;
    }
    const minVersion = event.kind === 'user_deleted' ? Infinity : event.refreshTokenVersion;
    const known = this.users.get(event.userId);
    if (known === undefined) this.users.set(event.userId, { minVersion, at: event.at });
    else {
      known.minVersion = Math.max(known.minVersion, minVersion);
      known.at = Math.max(known.at, event.at);
    }
  }

  /** The hot path: at most two Map lookups, no allocation. */
  isRevoked(claims: RevocableClaims): boolean {
    if (this.sessions.size !== 0 && this.sessions.has(claims.sid)) return true;
    const user = this.users.size === 0 ? undefined : this.users.get(claims.sub);
    return user !== undefined && claims.refreshTokenVersion < user.minVersion;
  }

  /** Drops the entries older than the window; returns how many it dropped. */
  prune(): number {
    const oldest = this.clock.now() - this.windowMs;
    let dropped = 0;
    for (const [id, at] of this.sessions) {
      if (at <= oldest) {
        this.sessions.delete(id);
        dropped++;
      }
    }
    for (const [id, entry] of this.users) {
      if (entry.at <= oldest) {
        this.users.delete(id);
        dropped++;
      }
    }
    return dropped;
  }

  /** Entries held (sessions + users). */
  get size(): number {
    return this.sessions.size + this.users.size;
  }
}
