import cluster, { type Worker } from 'node:cluster';
import { pino, type LoggerOptions } from 'pino';
import type { Config } from './config/index.js';
import { startupFailure, type StartupPhase } from './config/startup-failure.js';
import { openDatabase } from './db/client.js';
import { loggerOptions } from './http/logging.js';
import { clusterScrape, serveMetrics, type MetricsListener } from './metrics/serve.js';

/**
 * WORKERS=N: the primary forks N copies of src/server.ts sharing one port (Node hands each
 * new connection to the next worker in turn) and serves nothing itself. It alone hears the
 * stop signals and passes them on by message, so a signal sent to the whole process group
 * (Ctrl-C, systemd) is not a second signal to a worker already closing. A worker that dies
 * once all have started is replaced, after a pause that doubles with each death in a row
 * (1 s up to 30 s), while the others keep serving; a worker that fails to start at first
 * stops them all (exit 1), since its reason (a bad port, a database refusing) is theirs too.
 */

/** The message by which the primary asks a worker to close gracefully. */
const SHUTDOWN = 'versioned-auth:shutdown';
/** Signals a terminal or a service manager sends to every process of the group. */
const GROUP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const FIRST_RESTART_DELAY_MS = 1000;
const MAX_RESTART_DELAY_MS = 30_000;
/** A worker that served this long before dying resets the restart delay. */
const STABLE_AFTER_MS = 60_000;

/** Whether this process should fork the workers instead of serving (WORKERS > 1, not yet forked). */
export function isClusterPrimary(config: Pick<Config, 'workers'>): boolean {
  return config.workers > 1 && cluster.isPrimary;
}

/**
 * In a worker: close-with-grace options that leave the group signals to the primary (they
 * are ignored here, not fatal). Elsewhere: none.
 */
export function workerSignalOptions(): { skip?: (typeof GROUP_SIGNALS)[number][] } {
  if (!cluster.isWorker) return {};
  for (const signal of GROUP_SIGNALS) process.on(signal, () => {});
  return { skip: [...GROUP_SIGNALS] };
}

/**
 * In a worker: calls `close` when the primary asks. (A worker whose primary is gone exits
 * at once: Node's cluster does that when the channel closes.)
 */
export function followPrimary(close: () => void): void {
  if (!cluster.isWorker) return;
  process.on('message', (message) => {
    if (message === SHUTDOWN) close();
  });
}

interface WorkerState {
  listening: boolean;
  /** config.clock time at which it started listening. */
  since: number;
}

/**
 * The primary: applies pending migrations once (a failure is one line and exit 1, as for
 * one process), forks `config.workers` workers, replaces those that die, and on SIGTERM,
 * SIGINT or SIGHUP asks each to close, exiting when all have (1 if any of them failed, or
 * after `shutdownDeadlineMs` and a margin). Never returns.
 */
export async function runPrimary(config: Config, options: { shutdownDeadlineMs: number }): Promise<never> {
  const log = pino(loggerOptions({ level: config.logLevel }) as LoggerOptions);
  const count = config.workers;
  if (config.rateLimit && !config.redisUrl) {
    log.warn(
      `WORKERS=${count} without REDIS_URL: each worker counts rate limits on its own, so a client gets up to ${count} times every limit; set REDIS_URL to share the counters`,
    );
  }
  await migrateOnce(config);
  const metrics = config.metricsPort === undefined ? undefined : await listenForMetrics(config, log);

  const states = new Map<Worker, WorkerState>();
  let ready = false;
  let stopping = false;
  let failed = false;
  let deathsInARow = 0;
  const restarts = new Set<NodeJS.Timeout>();

  const fork = () => {
    const worker = cluster.fork();
    // A message to a worker whose channel is closing fails; that must not end the primary.
    worker.on('error', (error) => log.warn({ err: error, worker: worker.process.pid }, 'worker channel error'));
    states.set(worker, { listening: false, since: 0 });
  };
  const exitWhenEmpty = () => {
    if (states.size > 0 || restarts.size > 0) return;
    log.info({ failed }, 'every worker has exited');
    void (metrics?.close() ?? Promise.resolve()).finally(() => process.exit(failed ? 1 : 0));
  };
  const stop = (reason: string) => {
    if (stopping) {
      log.error(`second ${reason}: killing the workers`);
      for (const worker of states.keys()) worker.process.kill('SIGKILL');
      process.exit(1);
    }
    stopping = true;
    log.info({ reason }, 'shutting down: asking every worker to finish its requests');
    for (const timer of restarts) clearTimeout(timer);
    restarts.clear();
    for (const [worker, state] of states) {
      // Only a listening worker is sure to be following the primary's messages.
      if (state.listening && worker.isConnected()) worker.send(SHUTDOWN);
      else worker.process.kill('SIGKILL');
    }
    setTimeout(() => {
      log.error(`workers still running ${options.shutdownDeadlineMs + 5000} ms after ${reason}: killing them`);
      for (const worker of states.keys()) worker.process.kill('SIGKILL');
      process.exit(1);
    }, options.shutdownDeadlineMs + 5000).unref();
    exitWhenEmpty();
  };
  for (const signal of GROUP_SIGNALS) process.on(signal, () => stop(signal));

  cluster.on('listening', (worker, address) => {
    const state = states.get(worker);
    if (!state) return;
    Object.assign(state, { listening: true, since: config.clock.now() });
    log.info({ worker: worker.process.pid }, 'worker listening');
    if (!ready && [...states.values()].every((s) => s.listening)) {
      ready = true;
      log.info(
        { workers: count, port: address.port, database: config.database.kind, ...(metrics ? { metricsPort: metrics.port } : {}) },
        'versioned-auth cluster ready',
      );
    }
  });

  cluster.on('exit', (worker, code, signal) => {
    const state = states.get(worker);
    states.delete(worker);
    if (stopping) {
      // A worker still starting is killed on purpose; one that served must close cleanly.
      if (state?.listening && code !== 0) failed = true;
      exitWhenEmpty();
      return;
    }
    if (!ready) {
      // Its own one-line reason is on stderr already.
      failed = true;
      stop(`a worker failing to start (exit ${code ?? signal})`);
      return;
    }
    const stable = state?.listening && config.clock.now() - state.since >= STABLE_AFTER_MS;
    deathsInARow = stable ? 1 : deathsInARow + 1;
    const delay = Math.min(MAX_RESTART_DELAY_MS, FIRST_RESTART_DELAY_MS * 2 ** (deathsInARow - 1));
    log.error({ worker: worker.process.pid, code, signal, restartInMs: delay }, 'worker exited: starting another');
    const timer = setTimeout(() => {
      restarts.delete(timer);
      fork();
    }, delay);
    restarts.add(timer);
  });

  log.info({ workers: count }, 'starting workers');
  for (let i = 0; i < count; i++) fork();
  return new Promise<never>(() => {});
}

/** METRICS_PORT: every worker's metrics, summed, served by the primary (the workers serve none). */
async function listenForMetrics(config: Config, log: { warn(object: object, message: string): void }): Promise<MetricsListener> {
  try {
    return await serveMetrics(clusterScrape(), { host: config.host, port: config.metricsPort!, log });
  } catch (error) {
    return refuseToStart(error, config, 'metrics');
  }
}

/** One migration before any worker starts; the workers' own then find nothing to do. */
async function migrateOnce(config: Config): Promise<void> {
  try {
    const database = await openDatabase(config.database);
    try {
      await database.migrate();
    } finally {
      await database.close();
    }
  } catch (error) {
    refuseToStart(error, config, 'register');
  }
}

/** The environment's doing (src/config/startup-failure.ts): one line and exit 1; anything else is a bug and is thrown. */
function refuseToStart(error: unknown, config: Config, phase: StartupPhase): never {
  const line = startupFailure(error, config, phase);
  if (line === undefined) throw error;
  console.error(`versioned-auth: cannot start: ${line}`);
  process.exit(1);
}
