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

  /**
   * Idempotent and order-independent: a reload and the live feed may both deliver an event.
   * An entry that changes moves to the end, keeping each Map in the order of its entries'
   * times as far as events arrive in order (which `prune` relies on for its cost only).
   */
  add(event: RevocationEvent): void {
    if (event.at <= this.clock.now() - this.windowMs) return;
    if (event.kind === 'session') {
      const known = this.sessions.get(event.sessionId);
      if (known !== undefined && known >= event.at) return;
      this.sessions.delete(event.sessionId);
      this.sessions.set(event.sessionId, event.at);
      return;
    }
    const minVersion = event.kind === 'user_deleted' ? Infinity : event.refreshTokenVersion;
    const known = this.users.get(event.userId);
    if (known === undefined) return void this.users.set(event.userId, { minVersion, at: event.at });
    known.minVersion = Math.max(known.minVersion, minVersion);
    if (event.at > known.at) {
      known.at = event.at;
      this.users.delete(event.userId);
      this.users.set(event.userId, known);
    }
  }

  /** The hot path: at most two Map lookups, no allocation. */
  isRevoked(claims: RevocableClaims): boolean {
    if (this.sessions.size !== 0 && this.sessions.has(claims.sid)) return true;
    const user = this.users.size === 0 ? undefined : this.users.get(claims.sub);
    return user !== undefined && claims.refreshTokenVersion < user.minVersion;
  }

  /**
   * Drops the entries older than the window, oldest first, stopping at the first one still
   * inside it: the cost is what it drops, not what it holds (a full walk of 100,000 entries
   * took 2-4 ms every 5 s). An entry that arrived out of order waits behind a younger one
   * until that one goes: harmless, every token it names has expired. Returns how many it dropped.
   */
  prune(): number {
    const oldest = this.clock.now() - this.windowMs;
    return dropUntil(this.sessions, (at) => at > oldest) + dropUntil(this.users, (entry) => entry.at > oldest);
  }

  /** Entries held (sessions + users). */
  get size(): number {
    return this.sessions.size + this.users.size;
  }
}

/** Deletes `map`'s entries in order until the first one `keep` accepts; returns how many. */
function dropUntil<V>(map: Map<string, V>, keep: (value: V) => boolean): number {
  let dropped = 0;
  for (const [id, value] of map) {
    if (keep(value)) break;
    map.delete(id);
    dropped++;
  }
  return dropped;
}
