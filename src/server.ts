import closeWithGrace from 'close-with-grace';
import Fastify from 'fastify';
import { ConfigError, loadConfig, useDevelopmentKeys, type Config } from './config/index.js';
import versionedAuth, { notFoundProblem, serverOptions } from './index.js';
import { logThreadPriorities } from './runtime/priority.js';

/** `npm start`: the plugin in a thin server. The only file that reads the environment and listens. */
let config: Config;
let warning: string | undefined;
try {
  ({ config, warning } = useDevelopmentKeys(loadConfig(process.env)));
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`versioned-auth: invalid configuration: ${error.message}`);
  process.exit(1);
}

const app = Fastify(serverOptions(config));
// MAX_CONNECTIONS: past it Node closes new connections at once, before file descriptors run out.
app.server.maxConnections = config.httpServer.maxConnections;
if (warning) app.log.warn(warning);
logThreadPriorities(app.log);
await app.register(versionedAuth, { config });
app.setNotFoundHandler(notFoundProblem);

/** A request still open this long after SIGTERM makes the process exit 1. */
const SHUTDOWN_DEADLINE_MS = 15_000;
closeWithGrace({ delay: SHUTDOWN_DEADLINE_MS, logger: app.log }, async ({ signal, err }) => {
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
  }
});

await app.listen({ host: config.host, port: config.port });
app.log.info({ database: config.database.kind }, 'versioned-auth ready');
