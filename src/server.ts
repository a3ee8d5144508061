import { buildApp } from './app.js';
import { ConfigError, loadConfig, type LoadedConfig } from './config/index.js';
import { lowPriorityThreads } from './threads.js';

/** The only entry point that reads the environment, listens and handles signals. */
let loaded: LoadedConfig;
try {
  loaded = loadConfig(process.env);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  console.error(`versioned-auth: invalid configuration: ${error.message}`);
  process.exit(1);
}
const { config, warnings } = loaded;

const app = await buildApp(config, { logger: { level: config.logLevel } });
for (const warning of warnings) app.log.warn(warning);
// argon2 runs on libuv's pool; at nice 19 a login storm cannot take the CPU from the event loop.
const threads = lowPriorityThreads();
if (!threads) {
  app.log.info('thread priorities are left alone on this platform: password hashing competes with the event loop');
} else if (threads.low > 0 && threads.eventLoopNice === 0) {
  app.log.info({ lowPriorityThreads: threads.low }, 'password hashing threads run at the lowest CPU priority');
} else {
  app.log.warn(
    { lowPriorityThreads: threads.low, eventLoopNice: threads.eventLoopNice },
    'password hashing threads do not run below the event loop: start with node --require ./dist/pool-priority.cjs (npm start does), at normal priority',
  );
}

const SHUTDOWN_DEADLINE_MS = 15_000;
let closing = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: finishing requests in flight');
    // close() stops accepting and waits for open connections; a keep-alive connection whose
    // request finishes after that would hold it until the client hangs up, so keep closing
    // the ones that have gone idle. A request that never ends gets a hard deadline.
    const sweep = setInterval(() => app.server.closeIdleConnections(), 100);
    setTimeout(() => {
      app.log.error('shutdown deadline passed: exiting with requests still open');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    app.close().finally(() => clearInterval(sweep)).then(
      () => process.exit(0),
      (error: unknown) => {
        app.log.error({ err: error }, 'error while shutting down');
        process.exit(1);
      },
    );
  });
}

await app.listen({ host: config.host, port: config.port });
app.log.info({ database: config.database.kind }, 'versioned-auth ready');
