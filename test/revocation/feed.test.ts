import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.js';
import { REVOCATION_CHANNEL } from '../../src/db/revocations.js';
import { revocations } from '../../src/db/schema.js';
import { startRevocationFeed, type RevocationFeed } from '../../src/revocation/feed.js';
import { RevocationList } from '../../src/revocation/list.js';
import { createTestDatabase, testClock, type TestClock } from '../helper.js';

const WINDOW_MS = 930_000; // ACCESS_TOKEN_TTL 15m + the 30 s skew
const TIMEOUT_MS = 10_000;

/** Polls until `check` holds; fails after TIMEOUT_MS (generous: never a duration assertion). */
async function eventually(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const deadline = performance.now() + TIMEOUT_MS;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`not ${what} after ${TIMEOUT_MS} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A logger that keeps what the feed says at warn and info. */
function recordingLogger() {
  const warnings: { fields: Record<string, unknown>; message: string }[] = [];
  const infos: string[] = [];
  const log = {
    warn: (fields: Record<string, unknown>, message: string) => void warnings.push({ fields, message }),
    info: (message: string) => void infos.push(message),
  } as unknown as FastifyBaseLogger;
  return { log, warnings, infos };
}

const token = (sub: string, sid: string, refreshTokenVersion = 0) => ({ sub, sid, refreshTokenVersion });

// The feed on its own (no HTTP), on PGlite's in-process LISTEN or a PostgreSQL connection,
// whichever the run uses: the same code path on both.
describe('the revocation feed', () => {
  let database: Database;
  let drop: () => Promise<void>;
  let feed: RevocationFeed | undefined;

  beforeAll(async () => {
    const testDb = await createTestDatabase();
    drop = testDb.drop;
    database = await openDatabase(testDb.config);
    await database.migrate();
  });
  afterEach(async () => {
    await feed?.close();
    feed = undefined;
  });
  afterAll(async () => {
    await database?.close();
    await drop?.();
  });

  const notify = (payload: string) => database.db.execute(sql`select pg_notify(${REVOCATION_CHANNEL}, ${payload})`);
  const start = async (clock: TestClock, options: { pruneEveryMs?: number } = {}) => {
    const list = new RevocationList(clock, WINDOW_MS);
    const recorded = recordingLogger();
    feed = await startRevocationFeed({ database, list, clock, log: recorded.log, ...options });
    expect(feed.up).toBe(true);
    return { list, ...recorded };
  };

  it('ignores malformed notifications, warns about each without quoting all of it, and applies the next good one', async () => {
    const clock = testClock();
    const { list, warnings } = await start(clock);
    const user = randomUUID();
    const at = clock.now();
    const malformed = [
      'not json at all',
      'null',
      '[1,2,3]',
      JSON.stringify({ kind: 'session', userId: user, at }), // no sessionId
      JSON.stringify({ kind: 'user_version', userId: user, refreshTokenVersion: '3', at }), // a string version
      JSON.stringify({ kind: 'user_renamed', userId: user, at }), // unknown kind
      JSON.stringify({ kind: 'user_deleted', userId: user, at: 'yesterday' }),
      `{"kind":"user_deleted","junk":"${'x'.repeat(7800)}"`, // near NOTIFY's 8000-byte limit, truncated JSON
    ];
    for (const payload of malformed) await notify(payload);
    const session = randomUUID();
    await notify(JSON.stringify({ kind: 'session', userId: user, sessionId: session, at }));

    // Notifications arrive in order: once the good one is applied, every bad one was seen.
    await eventually(() => list.isRevoked(token(user, session)), 'the good event applied');
    expect(list.size).toBe(1);
    expect(list.isRevoked(token(user, randomUUID(), 1_000))).toBe(false); // nothing else got in, no user entry
    expect(feed!.up).toBe(true);
    expect(warnings.map((w) => w.message)).toEqual(malformed.map(() => 'revocation feed: ignored a malformed notification'));
    expect(warnings.map((w) => w.fields.payloadLength)).toEqual(malformed.map((payload) => payload.length));
    for (const { fields } of warnings) expect(String(fields.payloadStart).length).toBeLessThanOrEqual(100);
  });

  it('drops list entries older than the window on the injected clock, keeping younger ones', async () => {
    const clock = testClock();
    const { list } = await start(clock, { pruneEveryMs: 20 });
    const [old, young] = [randomUUID(), randomUUID()];
    await notify(JSON.stringify({ kind: 'user_deleted', userId: old, at: clock.now() }));
    clock.advance(60);
    await notify(JSON.stringify({ kind: 'user_deleted', userId: young, at: clock.now() }));
    await eventually(() => list.size === 2, 'both events applied');

    clock.advance(WINDOW_MS / 1000 - 60); // the first is now exactly one window old
    await eventually(() => list.size === 1, 'the old entry pruned');
    expect(list.isRevoked(token(old, randomUUID()))).toBe(false);
    expect(list.isRevoked(token(young, randomUUID()))).toBe(true);
  });

  it('on start, reloads the window from the table and deletes nothing (old rows are the maintenance job\'s)', async () => {
    const clock = testClock();
    const now = clock.now();
    const [ancient, expired, recent] = [randomUUID(), randomUUID(), randomUUID()];
    const row = (userId: string, ageMs: number) => ({ kind: 'user_deleted' as const, userId, createdAt: new Date(now - ageMs) });
    await database.db.insert(revocations).values([row(ancient, 2 * WINDOW_MS + 1000), row(expired, WINDOW_MS + 1000), row(recent, 1000)]);

    const { list } = await start(clock, { pruneEveryMs: 20 });
    expect(list.size).toBe(1);
    expect(list.isRevoked(token(recent, randomUUID()))).toBe(true);
    expect(list.isRevoked(token(expired, randomUUID()))).toBe(false);
    // Several of the feed's own sweeps later, every row is still there.
    clock.advance(3 * (WINDOW_MS / 1000));
    await eventually(() => list.size === 0, 'the list swept');
    const kept = (await database.db.select({ userId: revocations.userId }).from(revocations)).map((r) => r.userId);
    expect(kept).toEqual(expect.arrayContaining([ancient, expired, recent]));
  });
});
