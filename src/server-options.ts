import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { FastifyHttpOptions } from 'fastify';
import type { Config } from './config/index.js';
import { loggerOptions } from './http/logging.js';
import { clientErrorHandler, frameworkErrors } from './plugins/problem.js';

/** How long the plugin may take to register (Fastify's default is 10 s). */
export const PLUGIN_TIMEOUT_MS = 120_000;

/**
 * A connection that neither sends nor receives a byte for this long is closed: a backstop
 * for a handler that never answers (ours give up on the database and Redis after 2 s), well
 * above an argon2 queue under load. Receiving a request has its own, shorter limit. Node
 * re-arms the timer on each request: about 1.5% of GET /me's instructions.
 */
export const CONNECTION_TIMEOUT_MS = 60_000;

/** How often Node looks for requests past their timeout (its default is every 30 s). */
const TIMEOUT_CHECK_INTERVAL_MS = 1000;

/**
 * What no plugin can set: Fastify server options behind some of our guarantees. A host
 * that leaves them out still gets working routes and `authenticate`, but gives up:
 * request ids that are random UUIDs (`genReqId`), problem+json answers to URLs that do not
 * decode and to requests Node's HTTP parser refuses or that arrive too slowly
 * (`frameworkErrors`, `clientErrorHandler`), refusal of wrongly typed JSON instead of
 * coercion and every field error listed (Ajv), time for a first start on an embedded
 * database (`pluginTimeout`), pino with our redaction of credentials (`logger`, at
 * `LOG_LEVEL`; a host passing its own logger keeps its own), timeouts that close slow and
 * idle connections (`REQUEST_TIMEOUT`, `KEEP_ALIVE_TIMEOUT`), the client address behind
 * the proxies `TRUST_PROXY` names (`trustProxy`), and problem+json 503s while the server
 * closes (`return503OnClosing: false` leaves them to the plugin). The connection cap,
 * `MAX_CONNECTIONS`, is no Fastify option: src/server.ts sets `app.server.maxConnections`.
 */
export function serverOptions(config: Pick<Config, 'logLevel' | 'trustProxy' | 'httpServer'>) {
  const requestTimeout = config.httpServer.requestTimeout * 1000;
  return {
    logger: loggerOptions({ level: config.logLevel }),
    genReqId: () => randomUUID(),
    frameworkErrors,
    clientErrorHandler,
    ajv: { customOptions: { coerceTypes: false, removeAdditional: true, allErrors: true } },
    // The plugin opens and migrates its database while it registers; an embedded PGlite's
    // first start runs initdb (about 6 s here), close to Fastify's default of 10 s.
    pluginTimeout: PLUGIN_TIMEOUT_MS,
    trustProxy: trustProxyOption(config.trustProxy),
    // Node answers a request not received in full by then with 408 (clientErrorHandler).
    // Its headersTimeout must not exceed requestTimeout, or a request whose body stalls
    // is never timed out.
    requestTimeout,
    http: { headersTimeout: requestTimeout, connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS },
    keepAliveTimeout: config.httpServer.keepAliveTimeout * 1000,
    connectionTimeout: CONNECTION_TIMEOUT_MS,
    return503OnClosing: false,
  } satisfies FastifyHttpOptions<Server>;
}

/**
 * Fastify (5.12.1 on) believes no hop at all when given a number, since a count cannot
 * check who connects; TRUST_PROXY's hop count keeps its usual meaning instead (that many
 * proxies in front, as Express counts them), with a production warning at start.
 */
function trustProxyOption(trust: Config['trustProxy']) {
  return typeof trust === 'number' ? (_address: string, hop: number) => hop < trust : trust;
}
