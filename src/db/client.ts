import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { DatabaseConfig, PgliteThreadMode } from '../config/index.js';
import { lockDirectory } from './directory-lock.js';
import type { PgliteThread } from './pglite-thread.js';
import { PGLITE_SETTINGS, preparePgliteDirectory } from './prepare-pglite.js';
import { pooledTransaction } from './pooled-transaction.js';
import * as schema from './schema.js';

/** A drizzle database over either driver; nothing outside this file knows which. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Database {
  db: Db;
  kind: DatabaseConfig['kind'];
  /** Resolves when the database answers a trivial query. */
  ping(): Promise<void>;
  /** Applies pending migrations; safe to run from several instances at once. */
  migrate(): Promise<void>;
  close(): Promise<void>;
  /**
   * Runs `task` unless another holder of the advisory lock `key` is running it (any process,
   * on PostgreSQL; PGlite serves one process) and resolves to its result, or to `skipped`.
   */
  exclusively<T>(key: number, task: () => Promise<T>): Promise<{ ran: true; value: T } | { ran: false }>;
  /**
   * LISTENs on `channel` over a connection of its own (never one of the pool's): resolves
   * once listening. `onLost` is called once if that connection fails later (PostgreSQL, or
   * PGlite's worker thread dying; never PGlite in-process); the listener is then dead, and a
   * new one must be opened.
   */
  listen(channel: string, onNotification: (payload: string | undefined) => void, onLost: (error: Error) => void): Promise<Listener>;
  /** The connections now (for the metrics). */
  stats(): PoolStats;
}

/**
 * pg: the pool's clients and the queries waiting for one. PGlite: one in-process connection,
 * in use while a query or transaction runs; the calls queued behind it are waiting.
 */
export interface PoolStats {
  total: number;
  idle: number;
  waiting: number;
}

export interface Listener {
  close(): Promise<void>;
}

/** How the listener's connection shows in pg_stat_activity. */
export const LISTENER_APPLICATION_NAME = 'versioned-auth revocation feed';
/** The listener checks its otherwise idle connection this often, to notice a silent network failure. */
const LISTENER_HEARTBEAT_MS = 10_000;
/** A listener being closed waits this long for the server's goodbye, then drops the socket. */
const LISTENER_END_TIMEOUT_MS = 1000;

/** Where PGlite runs when PGLITE_THREAD is unset (docs/operations.md, "The embedded database's thread"). */
const DEFAULT_PGLITE_THREAD: PgliteThreadMode = 'main';

const migrationsFolder = fileURLToPath(new URL('../../migrations', import.meta.url));
/** Arbitrary constant naming the advisory lock that serialises migrations across instances. */
const MIGRATION_LOCK = 7_310_482_331;

/**
 * Opens PGlite (files under its data directory, locked to this process until `close()`, or
 * `memory://`) or a `pg` pool. A directory another live process holds throws a ConfigError
 * naming DATA_DIR.
 */
export async function openDatabase(
  config: DatabaseConfig,
  onPoolError: (error: Error) => void = () => {},
): Promise<Database> {
  return config.kind === 'postgres' ? openPostgres(config.url, onPoolError) : openPglite(config.dataDir, config.thread);
}

async function openPostgres(url: string, onPoolError: (error: Error) => void): Promise<Database> {
  const { default: pg } = await import('pg');
  const { drizzle } = await import('drizzle-orm/node-postgres');
  const { migrate } = await import('drizzle-orm/node-postgres/migrator');
  const pool = new pg.Pool({
    connectionString: url,
    max: 10,
    // Fail fast when the server is unreachable, so a client gets its 503 within ~2 s
    // instead of a request that hangs: refused connections fail at once, a dead network
    // path by these timeouts (the client-side one also covers a connection that went
    // silent mid-query; the server-side one frees the server of a stuck statement).
    connectionTimeoutMillis: 2000,
    query_timeout: 2000,
    statement_timeout: 2000,
    keepAlive: true,
    idleTimeoutMillis: 30_000,
  });
  // An idle client losing its connection must not crash the process.
  pool.on('error', onPoolError);
  // A client checked out for a transaction is not the pool's to watch: its connection
  // dying mid-transaction must not crash the process either (the transaction fails).
  pool.on('connect', (client) => client.on('error', onPoolError));
  const db = drizzle({ client: pool, schema }) as unknown as Db;
  db.transaction = pooledTransaction(pool, (client) => drizzle({ client, schema }) as unknown as Db, (cause) => cause instanceof pg.DatabaseError);
  return {
    db,
    kind: 'postgres',
    ping: async () => {
      await pool.query('select 1');
    },
    migrate: async () => {
      const client = await pool.connect();
      try {
        await client.query('select pg_advisory_lock($1)', [MIGRATION_LOCK]);
        await migrate(drizzle({ client }), { migrationsFolder });
      } finally {
        await client.query('select pg_advisory_unlock($1)', [MIGRATION_LOCK]).catch(() => {});
        client.release();
      }
    },
    close: () => pool.end(),
    exclusively: async (key, task) => {
      // A session-level lock, so the task's statements can each commit on their own (the
      // pool's connections): it lives on this checked-out connection until unlocked.
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        const { rows } = await client.query<{ locked: boolean }>('select pg_try_advisory_lock($1) as locked', [key]);
        if (!rows[0]?.locked) return { ran: false };
        try {
          return { ran: true, value: await task() };
        } finally {
          // A connection that could not unlock still holds the lock: it must not go back to the pool.
          await client.query('select pg_advisory_unlock($1)', [key]).catch((error: Error) => (broken = error));
        }
      } finally {
        client.release(broken);
      }
    },
    stats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    listen: async (channel, onNotification, onLost) => {
      const client = new pg.Client({
        connectionString: url,
        application_name: LISTENER_APPLICATION_NAME,
        connectionTimeoutMillis: 2000,
        query_timeout: 2000,
        keepAlive: true,
      });
      let listening = false;
      let heartbeat: NodeJS.Timeout | undefined;
      let ending: Promise<void> | undefined;
      // end() waits for the server to answer; on a dead network path it would wait forever.
      const end = () =>
        (ending ??= (async () => {
          clearInterval(heartbeat);
          const socket = (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream;
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([
            client.end().catch(() => {}),
            new Promise<void>((resolve) => (timer = setTimeout(resolve, LISTENER_END_TIMEOUT_MS))),
          ]);
          clearTimeout(timer);
          socket?.destroy();
        })());
      const lost = (error: Error) => {
        if (ending) return;
        void end();
        if (listening) onLost(error);
      };
      client.on('error', lost);
      client.on('end', () => lost(new Error('the listener connection ended')));
      client.on('notification', (message) => {
        if (message.channel === channel) onNotification(message.payload);
      });
      try {
        await client.connect();
        await client.query(`LISTEN ${client.escapeIdentifier(channel)}`);
      } catch (error) {
        await end();
        throw error;
      }
      listening = true;
      heartbeat = setInterval(() => {
        client.query('select 1').catch((error: Error) => lost(error));
      }, LISTENER_HEARTBEAT_MS);
      heartbeat.unref();
      return { close: end };
    },
  };
}

async function openPglite(dataDir: string, thread: PgliteThreadMode = DEFAULT_PGLITE_THREAD): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  const onDisk = !dataDir.includes('://');
  if (onDisk) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  // One process per directory: a second PGlite on the same files would split the data.
  const lock = onDisk ? lockDirectory(dataDir) : undefined;
  const startParams = [...PGlite.defaultStartParams, ...PGLITE_SETTINGS];
  let client: InstanceType<typeof PGlite> | PgliteThread;
  try {
    // initdb runs in a child process of its own, so this one only ever reopens a prepared directory.
    if (onDisk) await preparePgliteDirectory(dataDir, { startParams });
    // In a worker thread, PGlite's work leaves the event loop (src/db/pglite-thread.ts).
    client =
      thread === 'worker'
        ? await (await import('./pglite-thread.js')).PgliteThread.open(dataDir, startParams)
        : await PGlite.create(dataDir, { startParams });
  } catch (error) {
    lock?.release();
    throw error;
  }
  const pending = countPending(client);
  const db = drizzle({ client: client as InstanceType<typeof PGlite>, schema });
  const running = new Set<number>();
  return {
    db: db as unknown as Db,
    kind: 'pglite',
    stats: () => ({ total: 1, idle: pending.count === 0 ? 1 : 0, waiting: Math.max(0, pending.count - 1) }),
    ping: async () => {
      await db.execute(sql`select 1`);
    },
    migrate: () => migrate(db, { migrationsFolder }),
    // One process holds the directory, and PGlite's single connection would re-enter its own advisory lock.
    exclusively: async (key, task) => {
      if (running.has(key)) return { ran: false };
      running.add(key);
      try {
        return { ran: true, value: await task() };
      } finally {
        running.delete(key);
      }
    },
    // Notifications are delivered at commit; in-process the connection cannot be lost, in a
    // worker thread it is lost if that thread dies.
    listen: async (channel, onNotification, onLost) => {
      const unlisten = client instanceof PGlite ? await client.listen(channel, onNotification) : await client.listen(channel, onNotification, onLost);
      return { close: () => unlisten().catch(() => {}) };
    },
    close: async () => {
      try {
        await client.close();
      } finally {
        lock?.release();
      }
    },
  };
}

/**
 * Counts PGlite's calls in progress: it runs one at a time and queues the rest (a query
 * inside a transaction goes through the transaction's own object, so is not counted twice).
 */
function countPending(client: { query: (...args: never[]) => Promise<unknown>; transaction: (...args: never[]) => Promise<unknown> }): { count: number } {
  const pending = { count: 0 };
  for (const method of ['query', 'transaction'] as const) {
    const original = client[method].bind(client) as (...args: unknown[]) => Promise<unknown>;
    (client as Record<string, unknown>)[method] = async (...args: unknown[]) => {
      pending.count++;
      try {
        return await original(...args);
      } finally {
        pending.count--;
      }
    };
  }
  return pending;
}
