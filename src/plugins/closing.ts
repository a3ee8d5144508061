import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { sendProblem } from './problem.js';
import { SECURITY_HEADERS } from './security-headers.js';

/**
 * Requests that arrive while the server closes (on a kept-alive connection, or before
 * `preClose` hooks finish) get the contract's 503 `service_unavailable` in problem+json,
 * with `Retry-After` and `Connection: close`, so a load balancer sends them elsewhere.
 * Registered without encapsulation, in the host's context: it covers the host's own routes
 * registered after the plugin, and 404s. It takes over from Fastify's built-in JSON 503,
 * which `return503OnClosing: false` in serverOptions turns off (without serverOptions,
 * that 503 answers first and this hook never sees a closing server).
 */
export default fp(
  async (app) => {
    let closing = false;
    app.addHook('preClose', async () => {
      closing = true;
    });
    // A callback hook: on every request, GET /me included, it costs one test and no promise.
    app.addHook('onRequest', (_request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      if (!closing) return done();
      reply.headers(SECURITY_HEADERS).header('connection', 'close');
      void sendProblem(reply, 'service_unavailable', false);
    });
  },
  { name: 'versioned-auth-closing', fastify: '5.x' },
);
