import { loadConfig } from '../config/index.js';
import { openDatabase } from './client.js';

/** `npm run db:migrate`: applies pending migrations to the configured database and exits. */
const config = loadConfig(process.env);
const database = await openDatabase(config.database);
try {
  await database.migrate();
  console.log(`migrations applied (${database.kind})`);
} finally {
  await database.close();
}
