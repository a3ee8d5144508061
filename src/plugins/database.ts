import fp from 'fastify-plugin';
import type { DatabaseConfig } from '../config/index.js';
import { openDatabase, type Database } from '../db/client.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The service's database (drizzle over pg or PGlite). */
    authDatabase: Database;
  }
}

export interface DatabasePluginOptions {
  config: DatabaseConfig;
  /** An open database the caller owns and closes; otherwise one is opened from `config` and closed with the app. */
  database?: Database;
}

/** Opens (or adopts) the database and applies pending migrations before any route runs. */
export default fp<DatabasePluginOptions>(
  async (app, { config, database: given }) => {
    const database = given ?? (await openDatabase(config, (error) => app.log.warn({ err: error }, 'database connection lost')));
    try {
      await database.migrate();
    } catch (error) {
      if (!given) await database.close();
      throw error;
    }
    // Only once it is ours to keep: a failed start closed it above, and must not close it twice.
    if (!given) app.addHook('onClose', () => database.close());
    app.decorate('authDatabase', database);
    const metrics = app.authInstruments;
    if (metrics) metrics.sources.database = () => database.stats();
  },
  { name: 'versioned-auth-database', fastify: '5.x' },
);
