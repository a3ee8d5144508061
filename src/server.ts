import { buildApp } from './app.js';
import { ConfigError, loadConfig, type LoadedConfig } from './config/index.js';

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

let closing = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    if (closing) return;
    closing = true;
    app.log.info({ signal }, 'shutting down: finishing requests in flight');
    app.close().then(
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
