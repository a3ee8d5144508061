// @ts-check
/**
 * The embedded database's own thread (started by src/db/pglite-thread.ts): PGlite runs
 * here, so its WASM work never holds the server's event loop. Plain JavaScript so the same
 * file runs from src/ (tests, tsx) and from dist/ (tsc copies it).
 *
 * Requests arrive on this thread's port as `{ op, id, ... }` and each gets one answer
 * `{ id, ok, value | error }`; notifications go out as `{ op: 'notify', listener, payload }`.
 * PGlite's own locks order the work: a transaction holds PGlite until it ends, and the
 * statements sent for it (`tx`) run inside it, in the order they arrive, with nothing
 * else interleaved.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, TransactionAbortedError, protocol } from '@electric-sql/pglite';

const port = parentPort;
if (!port) throw new Error('src/db/pglite-worker.js runs in a worker thread');

/** Parsers that leave a column's text as PostgreSQL sent it: the caller parses it on its side. */
const identity = (/** @type {string} */ value) => value;

/**
 * @typedef {{ tx: import('@electric-sql/pglite').Transaction, end: (commit: boolean) => void, done: Promise<void> }} OpenTransaction
 * @typedef {{ rowMode?: 'array' | 'object', paramTypes?: number[], raw?: number[] }} WireOptions
 */

/** @type {Map<number, OpenTransaction>} */
const transactions = new Map();
/** @type {Map<number, () => Promise<void>>} */
const listeners = new Map();
/** The reason a transaction's callback rejects when the caller asked for a rollback. */
const ROLLBACK = Symbol('rollback');

/** @param {unknown} error */
function wireError(error) {
  if (!(error instanceof Error)) return { kind: 'error', message: String(error) };
  // Every field PostgreSQL sent (code, detail, constraint…); not the query's own options,
  // which hold functions, nor its parameters, which the caller still has.
  const { queryOptions, params, query, ...fields } = /** @type {Error & Record<string, unknown>} */ (error);
  const kind = error instanceof TransactionAbortedError ? 'aborted' : error instanceof protocol.messages.DatabaseError ? 'database' : 'error';
  return { ...fields, kind, message: error.message, name: error.name };
}

/**
 * @param {number} id
 * @param {() => Promise<unknown>} work
 */
function answer(id, work) {
  work().then(
    (value) => port?.postMessage({ id, ok: true, value }),
    (error) => port?.postMessage({ id, ok: false, error: wireError(error) }),
  );
}

/** @param {WireOptions | undefined} options */
function queryOptions(options) {
  if (!options) return undefined;
  const { raw, ...rest } = options;
  return raw?.length ? { ...rest, parsers: Object.fromEntries(raw.map((oid) => [oid, identity])) } : rest;
}

/** @param {number | undefined} id */
function transaction(id) {
  const open = id === undefined ? undefined : transactions.get(id);
  if (!open) throw new Error(`no open transaction ${id}`);
  return open;
}

/**
 * Opens a transaction that stays open until `commit` or `rollback` names it; answers `id`
 * once BEGIN has run.
 * @param {PGlite} pg
 * @param {number} id
 */
function begin(pg, id) {
  let started = false;
  /** @type {(commit: boolean) => void} */
  let end = () => {};
  const ended = new Promise((resolve, reject) => {
    end = (commit) => (commit ? resolve(undefined) : reject(ROLLBACK));
  });
  /** @type {OpenTransaction} */
  const open = { tx: /** @type {any} */ (undefined), end: (commit) => end(commit), done: Promise.resolve() };
  open.done = pg.transaction(async (tx) => {
    started = true;
    open.tx = tx;
    transactions.set(id, open);
    port?.postMessage({ id, ok: true, value: id });
    await ended;
  });
  open.done.then(
    () => transactions.delete(id),
    (error) => {
      transactions.delete(id);
      if (!started) port?.postMessage({ id, ok: false, error: wireError(error) });
    },
  );
}

/**
 * @param {PGlite} pg
 * @param {any} message
 */
function handle(pg, message) {
  const { op, id } = message;
  switch (op) {
    case 'query':
      return answer(id, () => (message.tx === undefined ? pg : transaction(message.tx).tx).query(message.sql, message.params, queryOptions(message.options)));
    case 'exec':
      return answer(id, () => (message.tx === undefined ? pg : transaction(message.tx).tx).exec(message.sql, queryOptions(message.options)));
    case 'begin':
      return begin(pg, id);
    case 'commit':
    case 'rollback':
      return answer(id, async () => {
        const open = transaction(message.tx);
        open.end(op === 'commit');
        await open.done.catch((error) => {
          if (error !== ROLLBACK) throw error;
        });
      });
    case 'tx-rollback':
      return answer(id, () => transaction(message.tx).tx.rollback());
    case 'listen':
      return answer(id, async () => {
        listeners.set(id, await pg.listen(message.channel, (payload) => port?.postMessage({ op: 'notify', listener: id, payload })));
        return id;
      });
    case 'unlisten':
      return answer(id, async () => {
        const unlisten = listeners.get(message.listener);
        listeners.delete(message.listener);
        await unlisten?.();
      });
    case 'close':
      // The caller ends the thread once this is answered.
      return answer(id, () => pg.close());
    default:
      return port?.postMessage({ id, ok: false, error: { kind: 'error', message: `unknown request ${String(op)}` } });
  }
}

try {
  const { dataDir, startParams } = workerData;
  const pg = await PGlite.create(dataDir, startParams ? { startParams } : {});
  port.on('message', (message) => handle(pg, message));
  port.postMessage({ op: 'ready' });
} catch (error) {
  port.postMessage({ op: 'failed', error: wireError(error) });
  port.close();
}
