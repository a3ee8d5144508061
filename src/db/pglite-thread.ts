import { Worker } from 'node:worker_threads';
import { TransactionAbortedError, protocol, type QueryOptions, type Results, type Transaction } from '@electric-sql/pglite';

/**
 * Thrown for every query once the embedded database's thread has stopped without being
 * closed (a crash). Its SQLSTATE-style code, connection_failure, makes the routes and
 * `/ready` answer 503 (src/db/errors.ts) instead of waiting for an answer that cannot come.
 */
export class PgliteThreadError extends Error {
  readonly code = '08006';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'PgliteThreadError';
  }
}

/** What the worker sends for a failed request: the error's own fields, PostgreSQL's included. */
interface WireError {
  kind: 'database' | 'aborted' | 'error';
  message: string;
  name?: string;
  length?: number;
  [field: string]: unknown;
}

type Answer = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WireError };
type Notification = { op: 'notify'; listener: number; payload: string };
type Startup = { op: 'ready' } | { op: 'failed'; error: WireError };

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
}

interface Listening {
  onNotification(payload: string): void;
  onLost?: (error: Error) => void;
}

const workerUrl = new URL('./pglite-worker.js', import.meta.url);

/**
 * PGlite in a worker thread of its own, with the part of PGlite's interface that drizzle
 * (drizzle-orm/pglite) and src/db/client.ts use: `query`, `exec`, `transaction`, `listen`,
 * `close`. The server's event loop only posts requests and reads answers; PGlite's WASM
 * work, parsing of parameters included, runs on the other thread.
 *
 * Results come back by structured clone, which keeps Date, bigint, Uint8Array and JSON
 * values as they are. Parsers a caller passes (functions, which cannot cross) are applied
 * here to the columns' text, which the worker leaves unparsed for those types, so a result
 * is what an in-process PGlite returns. A transaction is pinned to the worker: its
 * statements run there in order inside PGlite's transaction lock, nothing interleaved.
 */
export class PgliteThread {
  readonly #worker: Worker;
  readonly #pending = new Map<number, Pending>();
  readonly #listening = new Map<number, Listening>();
  #nextId = 1;
  /** Set once the thread is closed or gone: every request after that fails with it. */
  #stopped: Error | undefined;
  #closing: Promise<void> | undefined;

  private constructor(worker: Worker) {
    this.#worker = worker;
    worker.on('message', (message: Answer | Notification) => this.#receive(message));
    worker.on('error', (error) => this.#stop(new PgliteThreadError(`the embedded database's thread failed: ${error.message}`, { cause: error })));
    worker.on('exit', (code) => this.#stop(new PgliteThreadError(`the embedded database's thread stopped (exit code ${code})`)));
  }

  /** Opens PGlite on `dataDir` (a directory or `memory://`) in a new worker thread, with PostgreSQL's `startParams` when given. */
  static async open(dataDir: string, startParams?: string[]): Promise<PgliteThread> {
    // No execArgv: the thread runs plain JavaScript and needs none of the server's loaders or preloads.
    const worker = new Worker(workerUrl, { workerData: { dataDir, startParams }, execArgv: [] });
    let onMessage = (_message: Startup) => {};
    let onError = (_error: Error) => {};
    let onExit = (_code: number) => {};
    try {
      await new Promise<void>((resolve, reject) => {
        onMessage = (message) => (message.op === 'ready' ? resolve() : reject(toError(message.error)));
        onError = reject;
        onExit = (code) => reject(new PgliteThreadError(`the embedded database's thread stopped while opening (exit code ${code})`));
        worker.on('message', onMessage).on('error', onError).on('exit', onExit);
      });
    } catch (error) {
      await worker.terminate();
      throw error;
    } finally {
      // Not removeAllListeners(): the Worker keeps listeners of its own, and messages stop without them.
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
    }
    return new PgliteThread(worker);
  }

  /** The thread itself, for diagnostics (its threadId) and for tests that make it fail. */
  get thread(): Worker {
    return this.#worker;
  }

  query<T>(sql: string, params?: unknown[], options?: QueryOptions): Promise<Results<T>> {
    return this.#query('query', undefined, sql, params, options) as Promise<Results<T>>;
  }

  exec(sql: string, options?: QueryOptions): Promise<Results[]> {
    return this.#query('exec', undefined, sql, undefined, options) as Promise<Results[]>;
  }

  /** Runs `callback` in one transaction: COMMIT when it resolves, ROLLBACK when it throws. */
  async transaction<T>(callback: (tx: Transaction) => Promise<T>): Promise<T> {
    const id = (await this.#request({ op: 'begin' })) as number;
    let closed = false;
    const open = () => {
      if (closed) throw new Error('Transaction is closed');
    };
    const tx: Transaction = {
      query: async <R>(sql: string, params?: unknown[], options?: QueryOptions) => (open(), this.#query('query', id, sql, params, options) as Promise<Results<R>>),
      sql: async <R>(strings: TemplateStringsArray, ...params: unknown[]) =>
        (open(), this.#query('query', id, strings.reduce((text, part, i) => `${text}$${i}${part}`), params) as Promise<Results<R>>),
      exec: async (sql: string, options?: QueryOptions) => (open(), this.#query('exec', id, sql, undefined, options) as Promise<Results[]>),
      rollback: async () => {
        open();
        await this.#request({ op: 'tx-rollback', tx: id });
        closed = true;
      },
      listen: async () => {
        throw new Error('LISTEN inside a transaction is not supported across the worker thread');
      },
      get closed() {
        return closed;
      },
    };
    // The worker's side of the transaction ends only when told, even after tx.rollback():
    // until then it holds PGlite (which skips its own COMMIT or ROLLBACK after a rollback).
    let result: T;
    try {
      result = await callback(tx);
    } catch (error) {
      closed = true;
      await this.#request({ op: 'rollback', tx: id });
      throw error;
    }
    closed = true;
    await this.#request({ op: 'commit', tx: id });
    return result;
  }

  /**
   * LISTENs on `channel`; `onLost` is called once if the thread stops before the listener is
   * closed (a crash: the database and its notifications are gone).
   */
  async listen(channel: string, onNotification: (payload: string) => void, onLost?: (error: Error) => void): Promise<() => Promise<void>> {
    // The worker names the listener by its request's id.
    const id = this.#nextId++;
    this.#listening.set(id, { onNotification, onLost });
    try {
      await this.#request({ op: 'listen', channel }, id);
    } catch (error) {
      this.#listening.delete(id);
      throw error;
    }
    return async () => {
      if (!this.#listening.delete(id) || this.#stopped) return;
      await this.#request({ op: 'unlisten', listener: id });
    };
  }

  /**
   * Closes PGlite after the requests already sent (PGlite's own close waits for its locks),
   * then ends the thread; requests made after this fail.
   */
  close(): Promise<void> {
    return (this.#closing ??= (async () => {
      if (this.#stopped) return;
      const closing = this.#request({ op: 'close' });
      this.#stopped = new Error('PGlite is closed');
      try {
        await closing;
      } finally {
        this.#stop(this.#stopped);
        await this.#worker.terminate();
      }
    })());
  }

  async #query(op: 'query' | 'exec', tx: number | undefined, sql: string, params?: unknown[], options?: QueryOptions): Promise<unknown> {
    const { rowMode, paramTypes, parsers, ...unsupported } = options ?? {};
    const extra = Object.keys(unsupported).filter((key) => unsupported[key as keyof typeof unsupported] !== undefined);
    if (extra.length) throw new Error(`PGlite's ${extra.join(', ')} option is not supported across the worker thread`);
    // The worker leaves these types as text; their parsers run here.
    const raw = parsers ? Object.keys(parsers).map(Number) : undefined;
    try {
      const value = await this.#request({ op, tx, sql, params, options: { rowMode, paramTypes, raw } });
      if (parsers) for (const result of op === 'exec' ? (value as Results[]) : [value as Results]) parse(result, parsers, rowMode);
      return value;
    } catch (error) {
      // As PGlite does: the failed query's text, parameters and options on its error.
      if (error instanceof protocol.messages.DatabaseError) Object.assign(error, { query: sql, params, queryOptions: options });
      throw error;
    }
  }

  #request(message: Record<string, unknown>, id = this.#nextId++): Promise<unknown> {
    if (this.#stopped) return Promise.reject(this.#stopped);
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      try {
        this.#worker.postMessage({ ...message, id });
      } catch (error) {
        // A parameter that cannot be cloned (a function, a class instance with private state…).
        this.#pending.delete(id);
        reject(error as Error);
      }
    });
  }

  #receive(message: Answer | Notification): void {
    if ('op' in message) {
      if (message.op === 'notify') this.#listening.get(message.listener)?.onNotification(message.payload);
      return;
    }
    const pending = this.#pending.get(message.id);
    if (!pending) return;
    this.#pending.delete(message.id);
    if (message.ok) pending.resolve(message.value);
    else pending.reject(toError(message.error));
  }

  /** Fails what is still waiting, and tells the listeners when the thread died under them. */
  #stop(reason: Error): void {
    const crashed = !this.#stopped;
    this.#stopped ??= reason;
    for (const pending of this.#pending.values()) pending.reject(this.#stopped);
    this.#pending.clear();
    if (crashed) for (const listening of this.#listening.values()) listening.onLost?.(reason);
    this.#listening.clear();
  }
}

/** Applies a caller's parsers to the columns the worker left as text. */
function parse(result: Results, parsers: NonNullable<QueryOptions['parsers']>, rowMode: QueryOptions['rowMode']): void {
  const columns = result.fields.flatMap((field, index) => {
    const parser = parsers[field.dataTypeID];
    // PGlite calls a parser with the column's type too.
    return parser ? [{ key: rowMode === 'array' ? index : field.name, parser: parser as (value: string, type: number) => unknown, type: field.dataTypeID }] : [];
  });
  if (columns.length === 0) return;
  for (const row of result.rows as Record<string | number, unknown>[]) {
    for (const { key, parser, type } of columns) {
      const value = row[key];
      if (value !== null) row[key] = parser(value as string, type);
    }
  }
}

/** Rebuilds an error the worker sent as what an in-process PGlite throws. */
function toError(wire: WireError): Error {
  const { kind, message, name, length, ...fields } = wire;
  let error: Error;
  if (kind === 'aborted') error = new TransactionAbortedError();
  else if (kind === 'database') error = new protocol.messages.DatabaseError(message, length ?? 0, (name ?? 'error') as 'error');
  else {
    error = new Error(message);
    if (name) error.name = name;
  }
  return Object.assign(error, fields);
}
