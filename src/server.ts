import closeWithGrace from 'close-with-grace';
import Fastify from 'fastify';
import { followPrimary, isClusterPrimary, runPrimary, workerSignalOptions } from './cluster.js';
import { ConfigError, loadConfig, productionWarnings, useDevelopmentKeys, type Config } from './config/index.js';
import { startupFailure, type StartupPhase } from './config/startup-failure.js';
import demoPage from './http/demo.js';
import versionedAuth, { notFoundProblem, serverOptions } from './index.js';
import { isClusterWorker, reportToPrimary, serveMetrics, type MetricsListener } from './metrics/serve.js';
import { logThreadPriorities } from './runtime/priority.js';

/** `npm start`: the plugin in a thin server. The only file that reads the environment and listens. */

/** A request still open this long after SIGTERM makes the process exit 1. */
const SHUTDOWN_DEADLINE_MS = 15_000;
let config: Config;
let warning: string | undefined;
let metrics: MetricsListener | undefined;
try {
  config = loadConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`versioned-auth: invalid configuration: ${error.message}`);
  process.exit(1);
}
try {
  ({ config, warning } = useDevelopmentKeys(config));
} catch (error) {
  const line = startupFailure(error, config, 'keys');
  if (line === undefined) throw error;
  console.error(`versioned-auth: cannot start: ${line}`);
  process.exit(1);
}
// WORKERS > 1: this process forks the servers and never gets past this line.
if (isClusterPrimary(config)) await runPrimary(config, { shutdownDeadlineMs: SHUTDOWN_DEADLINE_MS });

const app = Fastify(serverOptions(config));
// MAX_CONNECTIONS: past it Node closes new connections at once, before file descriptors run out.
app.server.maxConnections = config.httpServer.maxConnections;
if (warning) app.log.warn(warning);
for (const line of productionWarnings(config)) app.log.warn(line);
logThreadPriorities(app.log);
try {
  await app.register(versionedAuth, { config });
} catch (error) {
  await refuseToStart(error, 'register');
}
// The demo SPA at /demo (examples/spa), for trying the client by hand; never in production.
if (!config.production) await app.register(demoPage);
app.setNotFoundHandler(notFoundProblem);

// METRICS_PORT: the plugin's registry on a listener of its own; with WORKERS the primary serves them all.
if (config.metricsPort !== undefined && app.authMetrics) {
  if (isClusterWorker()) reportToPrimary(app.authMetrics);
  else {
    try {
      metrics = await serveMetrics(app.authMetrics, { host: config.host, port: config.metricsPort, log: app.log });
    } catch (error) {
      await refuseToStart(error, 'metrics');
    }
  }
}

const closing = closeWithGrace({ delay: SHUTDOWN_DEADLINE_MS, logger: app.log, ...workerSignalOptions() }, async ({ signal, err }) => {
  if (err) app.log.error({ err }, 'shutting down after an error');
  else app.log.info({ signal }, 'shutting down: finishing requests in flight');
  // close() stops accepting and waits for open connections; a keep-alive connection whose
  // request finishes after that would hold it until the client hangs up, so keep closing
  // the ones that have gone idle.
  const sweep = setInterval(() => app.server.closeIdleConnections(), 100);
  try {
    await app.close();
  } finally {
    clearInterval(sweep);
    await metrics?.close();
  }
});
followPrimary(closing.close);

try {
  await app.listen({ host: config.host, port: config.port });
} catch (error) {
  await refuseToStart(error, 'listen');
}
app.log.info({ database: config.database.kind, ...(metrics ? { metricsPort: metrics.port } : {}) }, 'versioned-auth ready');

/**
 * A start-up failure that is the environment's doing (a locked DATA_DIR, a database that is
 * missing or answers no, a port in use) is one line naming the variable, and exit 1; anything
 * else is a bug and keeps its stack trace.
 */
async function refuseToStart(error: unknown, phase: StartupPhase): Promise<never> {
  const line = startupFailure(error, config, phase);
  if (line === undefined) throw error;
  console.error(`versioned-auth: cannot start: ${line}`);
  await app.close().catch(() => {});
  await metrics?.close();
  process.exit(1);
}
