import { ConfigError, loadConfig, type Config } from '../config/index.js';
import { startupFailure } from '../config/startup-failure.js';
import { openDatabase } from './client.js';

/**
 * `npm run db:migrate`: applies pending migrations to the configured database and exits.
 * A failure that is the environment's doing (a bad value, a database missing or refusing,
 * a DATA_DIR a running server holds) is one line naming the variable, and exit 1.
 */
let config: Config | undefined;
try {
  config = loadConfig(process.env);
  const database = await openDatabase(config.database);
  try {
    await database.migrate();
    console.log(`migrations applied (${database.kind})`);
  } finally {
    await database.close();
  }
} catch (error) {
  const line = error instanceof ConfigError ? error.message : config && startupFailure(error, config, 'register');
  if (line === undefined) throw error;
  console.error(`versioned-auth: cannot migrate: ${line}`);
  process.exitCode = 1;
}
