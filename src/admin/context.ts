import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig, type Config } from '../config/index.js';
import { startupFailure } from '../config/startup-failure.js';
import { openDatabase, type Database } from '../db/client.js';
import { DirectoryLockedError } from '../db/directory-lock.js';

/** The admin CLI's exit codes (docs/operations.md#admin-cli). */
export const EXIT = { ok: 0, failure: 1, usage: 2, notFound: 3 } as const;

/** A refusal the CLI prints as one line and exits with. */
export class AdminError extends Error {
  constructor(
    readonly code: 'failure' | 'usage' | 'not_found',
    message: string,
  ) {
    super(message);
    this.name = 'AdminError';
  }

  get exitCode(): number {
    return this.code === 'usage' ? EXIT.usage : this.code === 'not_found' ? EXIT.notFound : EXIT.failure;
  }
}

export const usageError = (message: string) => new AdminError('usage', message);

/** What a command prints: `text` for people, `json` (one document) with --json. */
export interface Output {
  text: string;
  json: unknown;
}

/**
 * The server's configuration (loadConfig(process.env)) and its database, opened for one
 * command and migrated as the server would. An embedded database held by a running server, or
 * never created, is refused with one line saying what to do.
 */
export async function withDatabase<T>(run: (database: Database, config: Config) => Promise<T>): Promise<T> {
  let config: Config;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    if (error instanceof ConfigError) throw new AdminError('failure', `invalid configuration: ${error.message}`);
    throw error;
  }
  const where = config.database;
  if (where.kind === 'pglite' && !where.dataDir.includes('://') && !existsSync(join(where.dataDir, 'PG_VERSION'))) {
    throw new AdminError('failure', `DATA_DIR: no embedded database in ${where.dataDir}: start the server once to create it, or set DATA_DIR (or DATABASE_URL) to the server's`);
  }
  let database: Database;
  try {
    database = await openDatabase(where);
    try {
      await database.migrate();
    } catch (error) {
      await database.close();
      throw error;
    }
  } catch (error) {
    if (error instanceof DirectoryLockedError) {
      const by = error.pid === undefined ? 'a running server' : `a running server (pid ${error.pid})`;
      throw new AdminError('failure', `DATA_DIR: the embedded database in ${error.dir} is in use by ${by}: stop the server, then run this command again`);
    }
    const line = startupFailure(error, config, 'register');
    if (line === undefined) throw error;
    throw new AdminError('failure', line);
  }
  try {
    return await run(database, config);
  } finally {
    await database.close();
  }
}

/** Rows as aligned columns under a header; `(none)` for no rows. */
export function table(rows: Record<string, unknown>[], columns: string[]): string {
  if (rows.length === 0) return '(none)';
  const cell = (value: unknown) => (value === null || value === undefined ? '-' : value instanceof Date ? value.toISOString() : String(value));
  const cells = [columns, ...rows.map((row) => columns.map((column) => cell(row[column])))];
  const widths = columns.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
  return cells.map((line) => line.map((value, i) => value.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}
