import { DrizzleQueryError } from 'drizzle-orm/errors';
import type { Pool, PoolClient } from 'pg';
import type { Db } from './client.js';

/**
 * `db.transaction` for a `pg` pool, on a connection checked out and given back here.
 * drizzle-orm 0.45's own runs BEGIN outside its try/finally, so a BEGIN that fails (a dead
 * connection, a timeout) never gives its client back, and ten such failures leave the pool
 * empty for good (drizzle-team/drizzle-orm#6241, open). Here the client always goes back,
 * and is destroyed unless the transaction ended cleanly or on an error the server answered:
 * a connection whose BEGIN or ROLLBACK got no answer is not one to hand out again.
 */
export function pooledTransaction(
  pool: Pool,
  onClient: (client: PoolClient) => Db,
  serverError: (cause: unknown) => boolean,
): Db['transaction'] {
  // One drizzle per pooled connection (building one costs about 20 µs), kept while it lives.
  const dbOf = new WeakMap<PoolClient, Db>();
  return async (work, config) => {
    const client = await pool.connect();
    let broken: Error | undefined;
    try {
      let db = dbOf.get(client);
      if (!db) dbOf.set(client, (db = onClient(client)));
      return await db.transaction(work, config);
    } catch (error) {
      // drizzle rethrows the ROLLBACK's own error when the rollback fails, so anything but a
      // failed query (the work's own error, e.g. a domain error) means it rolled back.
      if (error instanceof DrizzleQueryError && !serverError(error.cause)) broken = error;
      throw error;
    } finally {
      client.release(broken);
    }
  };
}
