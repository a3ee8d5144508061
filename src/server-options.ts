import { randomUUID } from 'node:crypto';
import type { FastifyServerOptions } from 'fastify';
import type { Config } from './config/index.js';
import { loggerOptions } from './http/logging.js';
import { clientErrorHandler, frameworkErrors } from './plugins/problem.js';

/** How long the plugin may take to register (Fastify's default is 10 s). */
export const PLUGIN_TIMEOUT_MS = 120_000;

/**
 * What no plugin can set: Fastify server options behind some of our guarantees. A host
 * that leaves them out still gets working routes and `authenticate`, but gives up:
 * request ids that are random UUIDs (`genReqId`), problem+json answers to URLs that do not
 * decode and to requests Node's HTTP parser refuses (`frameworkErrors`,
 * `clientErrorHandler`), refusal of wrongly typed JSON instead of coercion and every field
 * error listed (Ajv), time for a first start on an embedded database (`pluginTimeout`), pino with our redaction of credentials (`logger`, at
 * `LOG_LEVEL`; a host passing its own logger keeps its own), and the client address behind
 * the proxies `TRUST_PROXY` names (`trustProxy`).
 */
export function serverOptions(config: Pick<Config, 'logLevel' | 'trustProxy'>) {
  return {
    logger: loggerOptions({ level: config.logLevel }),
    genReqId: () => randomUUID(),
    frameworkErrors,
    clientErrorHandler,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: true, allErrors: true } },
    // The plugin opens and migrates its database while it registers; an embedded PGlite's
    // first start runs initdb (about 6 s here), close to Fastify's default of 10 s.
    pluginTimeout: PLUGIN_TIMEOUT_MS,
    trustProxy: config.trustProxy,
  } satisfies FastifyServerOptions;
}
