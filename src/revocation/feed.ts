import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../config/clock.js';
import type { Database, Listener } from '../db/client.js';
import { parseRevocationPayload, REVOCATION_CHANNEL, revocationsSince } from '../db/revocations.js';
import type { RevocationList } from './list.js';

export interface RevocationFeed {
  /** True while listening (and reloaded since the last reconnect). */
  readonly up: boolean;
  close(): Promise<void>;
}

export interface FeedOptions {
  database: Database;
  list: RevocationList;
  clock: Clock;
  log: FastifyBaseLogger;
  /** Wait before each reconnection attempt. */
  retryMs?: number;
  /** How often the list drops entries older than its window. */
  pruneEveryMs?: number;
  /** Hears, for each notification, the seconds since its revocation was written (the metrics). */
  lag?: (seconds: number) => void;
}

/** How much of a malformed notification the warning quotes (a payload may be up to 8000 bytes). */
const QUOTED_PAYLOAD_CHARS = 100;

/**
 * Follows the revocations of every instance: LISTENs on one dedicated connection, and on
 * start and after every reconnect reloads the rows of the last window from the table, so
 * nothing published while it was away is missed (LISTEN first, then reload: an event
 * committed in between arrives twice, which the list ignores). Resolves after the first
 * attempt, up or down; while down it retries, having logged one warning per outage.
 */
export async function startRevocationFeed(options: FeedOptions): Promise<RevocationFeed> {
  const { database, list, clock, log, retryMs = 1000, pruneEveryMs = 5000, lag } = options;
  let listener: Listener | undefined;
  let up = false;
  let closed = false;
  let outage = false;
  let retry: NodeJS.Timeout | undefined;

  const onNotification = (payload: string | undefined) => {
    const event = parseRevocationPayload(payload);
    if (event) {
      lag?.((clock.now() - event.at) / 1000);
      return list.add(event);
    }
    // Not ours (or a writer of another version): ignored, and said, without quoting all of it.
    log.warn(
      { payloadLength: payload?.length ?? 0, payloadStart: payload?.slice(0, QUOTED_PAYLOAD_CHARS) },
      'revocation feed: ignored a malformed notification',
    );
  };

  const down = (error: unknown) => {
    up = false;
    if (!outage) {
      outage = true;
      log.warn({ err: error }, 'revocation feed down: access tokens are checked by signature only until it reconnects');
    }
    if (!closed) {
      clearTimeout(retry);
      retry = setTimeout(() => void connect(), retryMs);
      retry.unref();
    }
  };

  const connect = async () => {
    if (closed) return;
    let opened: Listener | undefined;
    try {
      opened = await database.listen(REVOCATION_CHANNEL, onNotification, (error) => {
        if (listener === opened) listener = undefined;
        down(error);
      });
      if (closed) return void (await opened.close());
      listener = opened;
      for (const event of await revocationsSince(database.db, new Date(clock.now() - list.windowMs))) list.add(event);
      if (listener !== opened) return; // lost again while reloading: down() already runs the retry
      up = true;
      if (outage) log.info('revocation feed restored');
      outage = false;
    } catch (error) {
      if (opened) {
        if (listener === opened) listener = undefined;
        await opened.close();
      }
      if (!closed) down(error);
    }
  };

  // The table's old rows are the maintenance job's (src/plugins/maintenance.ts), not the feed's.
  const pruner = setInterval(() => list.prune(), pruneEveryMs);
  pruner.unref();

  await connect();

  return {
    get up() {
      return up;
    },
    close: async () => {
      closed = true;
      up = false;
      clearTimeout(retry);
      clearInterval(pruner);
      const open = listener;
      listener = undefined;
      await open?.close();
    },
  };
}
