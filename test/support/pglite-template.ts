import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../src/db/client.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A migrated PGlite data directory that test files copy instead of running initdb each (test/helper.ts). */
    pgliteTemplate: string;
  }
}

/**
 * Vitest global setup: initdb and the migrations run once here, and every PGlite test
 * database is a copy of the result (half a second, where initdb takes two to five on
 * two cores). Everything lives under one temporary directory removed at the end.
 */
export default async function setup(project: TestProject): Promise<() => void> {
  const root = mkdtempSync(join(tmpdir(), 'versioned-auth-test-'));
  const template = join(root, 'template');
  const remove = () => rmSync(root, { recursive: true, force: true });
  try {
    // Prepared on PostgreSQL runs too: the embedded database's own tests run on both.
    const database = await openDatabase({ kind: 'pglite', dataDir: template });
    try {
      await database.migrate();
    } finally {
      await database.close();
    }
  } catch (error) {
    remove();
    throw error;
  }
  project.provide('pgliteTemplate', template);
  return remove;
}
