/**
 * The reference servers of the bench's `fastify-bare` and `fastify-service` rows: GET /me on
 * Fastify without this project, so the report can say what our whole pipeline costs, not
 * only how /me compares with our own /health. Never used by the product; each runs in its
 * own process (bench/reference/server.ts), started by bench/run.ts.
 *
 * They import only what the service shares with any service: the logger's redaction and
 * error serializer (src/http/logging.ts) and the security headers
 * (src/plugins/security-headers.ts).
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { loggerOptions } from '../../src/http/logging.js';
import { SECURITY_HEADERS } from '../../src/plugins/security-headers.js';
import type { ReferenceScenario } from '../lib/scenarios.js';

/** What GET /me answers: the shape of the service's /me. */
export interface MeAnswer {
  id: string;
  email: string;
  sessionId: string;
}

/** The service's /me response schema, as plain JSON Schema, so the answer is serialised the same way. */
const ME_SCHEMA = {
  response: {
    200: {
      type: 'object',
      properties: { id: { type: 'string' }, email: { type: 'string' }, sessionId: { type: 'string' } },
      required: ['id', 'email', 'sessionId'],
    },
  },
} as const;

/** Every answer of fastify-service, set at once: the service's security headers and `no-store`. */
const SERVICE_HEADERS: Readonly<Record<string, string>> = Object.freeze({ ...SECURITY_HEADERS, 'cache-control': 'no-store' });

/**
 * `fastify-bare`: Fastify 5 with no logger and one route. It reads no header: the runner
 * sends it the `me` scenario's request (same Authorization header), which it does not verify.
 */
function bare(answer: MeAnswer): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get('/me', { schema: ME_SCHEMA }, () => answer);
  return app;
}

/**
 * `fastify-service`: the bare app plus what any production service pays on every request:
 * a pino logger at the bench server's level with the service's redaction paths, a random
 * UUID per request id, and the security headers from one sync onRequest hook.
 */
function service(answer: MeAnswer, logLevel: string): FastifyInstance {
  const app = Fastify({ logger: loggerOptions({ level: logLevel }), genReqId: () => randomUUID() });
  app.addHook('onRequest', (_request, reply, done) => {
    reply.headers(SERVICE_HEADERS);
    done();
  });
  app.get('/me', { schema: ME_SCHEMA }, () => answer);
  return app;
}

/** Builds one reference server (not listening yet). */
export function buildReferenceApp(name: ReferenceScenario, options: { answer: MeAnswer; logLevel: string }): FastifyInstance {
  switch (name) {
    case 'fastify-bare':
      return bare(options.answer);
    case 'fastify-service':
      return service(options.answer, options.logLevel);
  }
}
