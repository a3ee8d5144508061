import { openDatabase } from '../../src/db/client.js';

/**
 * A separate process that opens the embedded database in `process.argv[2]`, says `open`
 * (or `refused: <message>`) on stdout, and on SIGTERM closes it and exits 0.
 */
const dataDir = process.argv[2]!;
try {
  const database = await openDatabase({ kind: 'pglite', dataDir });
  process.once('SIGTERM', () => {
    void database.close().then(() => process.exit(0));
  });
  process.stdout.write('open\n');
  setInterval(() => {}, 60_000);
} catch (error) {
  process.stdout.write(`refused: ${(error as Error).message}\n`);
  process.exit(1);
}
