import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite, protocol, types } from '@electric-sql/pglite';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError } from '../../src/config/index.js';
import { openDatabase } from '../../src/db/client.js';
import { isDatabaseUnavailable } from '../../src/db/errors.js';
import { PgliteThread, PgliteThreadError } from '../../src/db/pglite-thread.js';
import { buildApp, preparedPgliteDirectory, removePreparedDirectories, testConfig } from '../helper.js';

// PGlite only, whichever database the suite runs on: this is the embedded database's own thread.
// Several tests create a database of their own, which takes tens of seconds on a loaded 2-core machine.
vi.setConfig({ testTimeout: 120_000 });

/** What drizzle-orm/pglite passes with every query: dates and intervals left as PostgreSQL's text. */
const DRIZZLE_PARSERS = Object.fromEntries(
  [types.TIMESTAMP, types.TIMESTAMPTZ, types.INTERVAL, types.DATE, 1231, 1115, 1185, 1187, 1182].map((oid) => [oid, (value: string) => value]),
);

const MANY_TYPES = `select
  '2026-12-02 10:00:00.123456+00'::timestamptz as at, '2026-12-02'::date as day, '1 day 2 hours'::interval as span,
  9007199254740993::int8 as big, 42::int4 as small, 1.5::float8 as ratio, 12345.678::numeric as money,
  true as flag, 'text'::text as words, '{"a":[1,{"b":null}]}'::jsonb as doc, '\\x00ff10'::bytea as bytes,
  '{1,2,3}'::int4[] as list, array['2026-01-01 00:00:00+00'::timestamptz] as times,
  '00000000-0000-4000-8000-000000000000'::uuid as id, null::text as nothing, $1::text as param, $2::timestamptz as param_at`;
const PARAMS = ['param', new Date('2026-11-27T12:00:00.000Z')];

let inProcess: PGlite;
let thread: PgliteThread;
beforeAll(async () => {
  // Prepared directories (test/helper.ts): opening one costs no initdb.
  const [one, two] = await Promise.all([preparedPgliteDirectory(), preparedPgliteDirectory()]);
  [inProcess, thread] = await Promise.all([PGlite.create(one), PgliteThread.open(two)]);
  for (const db of [inProcess, thread]) {
    await db.exec(`create table items (id int primary key, name text not null constraint items_name_key unique, n int not null default 0);
      insert into items (id, name) values (1, 'counter')`);
  }
  // Two databases opened at once: generous, for a loaded 2-core machine.
}, 180_000);
afterAll(async () => {
  await Promise.all([inProcess?.close(), thread?.close()]);
  await removePreparedDirectories();
});

async function failure(promise: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (error) {
    return error as Error & Record<string, unknown>;
  }
  throw new Error('expected a failure');
}

describe('PGlite in a worker thread (src/db/pglite-thread.ts)', () => {
  it.each([
    ['object rows, default parsers', {}],
    ['array rows', { rowMode: 'array' as const }],
    ["drizzle's parsers", { rowMode: 'array' as const, parsers: DRIZZLE_PARSERS }],
    ['a parser of its own, called with the type', { parsers: { [types.INT4]: (value: string, type?: number) => `${type}:${value}` } }],
  ])('returns what PGlite returns in-process: %s', async (_name, options) => {
    const expected = await inProcess.query(MANY_TYPES, PARAMS, options);
    const actual = await thread.query(MANY_TYPES, PARAMS, options);
    // Strict: Date stays Date, bigint-sized numbers, Uint8Array, nested JSON, nulls.
    expect(actual).toStrictEqual(expected);
    if ('parsers' in options && types.INT4 in options.parsers) expect((actual.rows[0] as Record<string, unknown>).small).toBe('23:42');
  });

  it('returns exec results (several statements) as PGlite does', async () => {
    const statements = `select 1 as a; update items set n = n where id = 1; select 'x' as b`;
    expect(await thread.exec(statements)).toStrictEqual(await inProcess.exec(statements));
  });

  it("carries PostgreSQL's error fields back: same class, code, constraint, detail, query and parameters", async () => {
    const insert = `insert into items (id, name) values ($1, $2)`;
    const expected = await failure(inProcess.query(insert, [2, 'counter']));
    const actual = await failure(thread.query(insert, [2, 'counter']));
    expect(actual).toBeInstanceOf(protocol.messages.DatabaseError);
    expect(actual.constructor).toBe(expected.constructor);
    expect(actual.code).toBe('23505');
    const fields = ['message', 'severity', 'code', 'detail', 'schema', 'table', 'constraint', 'routine', 'query', 'params'];
    expect(Object.fromEntries(fields.map((f) => [f, actual[f]]))).toStrictEqual(Object.fromEntries(fields.map((f) => [f, expected[f]])));
    expect(actual.constraint).toBe('items_name_key');
  });

  it('keeps the error fields through drizzle (its DrizzleQueryError wraps them as cause)', async () => {
    const database = await openDatabase({ kind: 'pglite', dataDir: await preparedPgliteDirectory(), thread: 'worker' });
    try {
      const error = await failure(database.db.execute(sql`select 1 / ${0}::int`));
      expect((error.cause as { code?: string }).code).toBe('22012');
      expect(isDatabaseUnavailable(error)).toBe(false);
    } finally {
      await database.close();
    }
  });

  it('runs concurrent transactions one after another, each read-modify-write whole', async () => {
    const increment = () =>
      thread.transaction(async (tx) => {
        const { rows } = await tx.query<{ n: number }>('select n from items where id = 1');
        await tx.query('update items set n = $1 where id = 1', [rows[0]!.n + 1]);
      });
    const before = (await thread.query<{ n: number }>('select n from items where id = 1')).rows[0]!.n;
    await Promise.all(Array.from({ length: 8 }, increment));
    expect((await thread.query<{ n: number }>('select n from items where id = 1')).rows[0]!.n).toBe(before + 8);
  });

  it('lets no other query into an open transaction: one sent meanwhile waits for its commit', async () => {
    const order: string[] = [];
    let outside: Promise<unknown> | undefined;
    await thread.transaction(async (tx) => {
      await tx.query(`insert into items (id, name) values (10, 'inside')`);
      outside = thread.query<{ n: number }>(`select count(*)::int as n from items where id = 10`).then((result) => {
        order.push('outside');
        return result.rows[0]!.n;
      });
      // Sent after the outside query: had that one run inside the transaction, it would answer first.
      await tx.query('select 1');
      order.push('inside');
    });
    order.push('committed');
    expect(await outside).toBe(1);
    expect(order).toEqual(['inside', 'committed', 'outside']);
  });

  it('rolls back when the callback throws, and on tx.rollback()', async () => {
    const error = new Error('changed my mind');
    await expect(
      thread.transaction(async (tx) => {
        await tx.query(`insert into items (id, name) values (20, 'thrown')`);
        throw error;
      }),
    ).rejects.toBe(error);
    await thread.transaction(async (tx) => {
      await tx.query(`insert into items (id, name) values (21, 'rolled back')`);
      await tx.rollback();
      expect(tx.closed).toBe(true);
      await expect(tx.query('select 1')).rejects.toThrow('Transaction is closed');
    });
    expect((await thread.query('select id from items where id in (20, 21)')).rows).toEqual([]);
  });

  it('fails the transaction whose statement fails, leaving nothing behind and PGlite usable', async () => {
    const error = await failure(
      thread.transaction(async (tx) => {
        await tx.query(`insert into items (id, name) values (30, 'first')`);
        await tx.query(`insert into items (id, name) values (31, 'counter')`);
      }),
    );
    expect(error.code).toBe('23505');
    expect((await thread.query('select id from items where id = 30')).rows).toEqual([]);
    expect((await thread.query('select 1 as ok')).rows).toEqual([{ ok: 1 }]);
  });

  it('delivers notifications at commit, and none after unlisten', async () => {
    const received: string[] = [];
    const unlisten = await thread.listen('feed', (payload) => received.push(payload));
    await thread.transaction(async (tx) => {
      await tx.query(`select pg_notify('feed', 'one')`);
      expect(received).toEqual([]);
    });
    expect(received).toEqual(['one']);
    await unlisten();
    await thread.query(`select pg_notify('feed', 'two')`);
    await thread.query('select 1');
    expect(received).toEqual(['one']);
  });
});

describe('the worker thread closing and failing', () => {
  it('answers the queries sent before close, refuses those after, and ends the thread', async () => {
    const own = await PgliteThread.open(await preparedPgliteDirectory());
    const inFlight = Array.from({ length: 20 }, (_, i) => own.query<{ i: number }>('select $1::int as i', [i]));
    const closed = own.close();
    await expect(own.query('select 1')).rejects.toThrow('PGlite is closed');
    await closed;
    expect((await Promise.all(inFlight)).map((result) => result.rows[0]!.i)).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(own.thread.threadId).toBe(-1);
    await own.close();
  });

  it('fails every query with a clear, unavailable error when the thread dies, and tells listeners', async () => {
    const own = await PgliteThread.open(await preparedPgliteDirectory());
    const lost: Error[] = [];
    await own.listen('feed', () => {}, (error) => lost.push(error));
    const inFlight = failure(own.query('select count(*) from generate_series(1, 3000000)'));
    await own.thread.terminate();
    const error = await inFlight;
    expect(error).toBeInstanceOf(PgliteThreadError);
    expect(error.message).toMatch(/embedded database's thread stopped/);
    expect(isDatabaseUnavailable(error)).toBe(true);
    await expect(own.query('select 1')).rejects.toBe(error);
    expect(lost).toEqual([error]);
    await own.close();
  });

  it('has /ready answer 503, not hang, once the thread is gone', async () => {
    const config = { kind: 'pglite' as const, dataDir: await preparedPgliteDirectory(), thread: 'worker' as const };
    const database = await openDatabase(config);
    const app = await buildApp(testConfig({ database: config }), { database });
    try {
      expect((await app.inject({ method: 'GET', url: '/ready' })).statusCode).toBe(200);
      await (database.db as unknown as { $client: PgliteThread }).$client.thread.terminate();
      const ready = await app.inject({ method: 'GET', url: '/ready' });
      expect(ready.statusCode).toBe(503);
      const login = await app.inject({ method: 'POST', url: '/auth/login', payload: { email: 'someone@example.com', password: 'correct horse battery' } });
      expect(login.statusCode).toBe(503);
    } finally {
      await app.close();
      await database.close();
    }
  });

  it('holds the data directory for its whole life, and keeps the data across a reopen', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'versioned-auth-thread-'));
    const config = { kind: 'pglite' as const, dataDir: join(dir, 'pglite'), thread: 'worker' as const };
    try {
      const first = await openDatabase(config);
      await first.migrate();
      await first.db.execute(sql`create table kept (v text)`);
      await first.db.execute(sql`insert into kept values ('still here')`);
      await expect(openDatabase(config)).rejects.toBeInstanceOf(ConfigError);
      await first.close();
      const second = await openDatabase(config);
      try {
        expect(((await second.db.execute(sql`select v from kept`)) as unknown as { rows: unknown[] }).rows).toEqual([{ v: 'still here' }]);
      } finally {
        await second.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
