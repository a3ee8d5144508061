/** versioned-auth as a package: the Fastify plugin, its configuration and its types. */
export { default, type VersionedAuthOptions } from './plugin.js';
export { serverOptions } from './server-options.js';
export { ConfigError, loadConfig, productionWarnings, useDevelopmentKeys, type Config, type DatabaseConfig } from './config/index.js';
export { openDatabase, type Database } from './db/client.js';
export { notFoundProblem } from './plugins/problem.js';
export type { AccessClaims } from './tokens/index.js';
