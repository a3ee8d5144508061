// @ts-check
'use strict';
/**
 * Preload (`node --require`): sizes libuv's thread pool to the cores (at most libuv's 4) unless
 * UV_THREADPOOL_SIZE is set, and starts it at the lowest CPU priority, so
 * argon2, which runs on that pool, only ever gets the CPU time the event loop leaves.
 * Linux gives each thread its own nice value and a new thread inherits its creator's. So
 * a short-lived worker thread lowers its own priority to 19 and is the first to use the
 * pool, which creates the pool's threads from that worker. The event loop keeps nice 0.
 * It must run before anything else touches the pool; loading an ES module does, which is
 * why this is a CommonJS preload. Elsewhere than Linux, or if anything fails, the pool
 * keeps the normal priority and the server says so in its start-up log.
 */
(() => {
  const { isMainThread, Worker } = require('node:worker_threads');
  if (!isMainThread) return;
  // No more pool threads than cores (libuv's default is 4): each thread that hashes keeps its
  // 19 MiB argon2 block in a malloc arena after the hash, and on a 1- or 2-core machine, where
  // memory is short too, threads beyond the cores add no hashing throughput (docs/operations.md,
  // Memory). libuv reads the variable when it creates the pool, which has not happened yet.
  if (process.env.UV_THREADPOOL_SIZE === undefined) {
    const os = require('node:os');
    const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
    process.env.UV_THREADPOOL_SIZE = String(Math.max(1, Math.min(4, cores)));
  }
  if (process.platform !== 'linux') return;
  const done = new Int32Array(new SharedArrayBuffer(4));
  const source = `
    const { workerData } = require('node:worker_threads');
    try { require('node:os').setPriority(19); } catch {}
    require('node:fs').stat('/', () => { Atomics.store(workerData, 0, 1); Atomics.notify(workerData, 0); });
  `;
  try {
    const worker = new Worker(source, { eval: true, workerData: done, execArgv: [], env: {} });
    // A worker that fails after starting reports it as an event; unheard, it would crash the server.
    worker.on('error', () => {}).unref();
    // The pool exists once the worker's first job has run: a few milliseconds.
    Atomics.wait(done, 0, 0, 2000);
  } catch {
    // Best effort: the server runs either way.
  }
})();
