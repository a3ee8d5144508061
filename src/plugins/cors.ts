import cors, { type FastifyCorsOptions } from '@fastify/cors';
import type { FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { HttpError } from '../http/errors.js';
import { TRANSPORT_HEADER } from '../http/transport.js';

/** What an origin in CORS_ORIGINS is granted (`origin: true` reflects it; the delegator checked it). */
const GRANT: FastifyCorsOptions = {
  origin: true,
  credentials: true,
  methods: ['GET', 'POST', 'DELETE'],
  allowedHeaders: ['Authorization', 'Content-Type', TRANSPORT_HEADER],
  exposedHeaders: ['Retry-After', 'WWW-Authenticate'],
  maxAge: 600,
};

/** Our routes a browser may call cross-origin (under the plugin's prefix). */
const OWN_PATHS = ['/auth/*', '/me'];

/** A CORS preflight, as the Fetch standard sends one. */
const isPreflight = (request: FastifyRequest) =>
  request.method === 'OPTIONS' && request.headers.origin !== undefined && request.headers['access-control-request-method'] !== undefined;

/** The contract's 403 for a foreign origin; its title is what a developer sees in the browser's network panel. */
const originNotAllowed = () =>
  Object.assign(new HttpError('csrf_rejected', 'CORS preflight from an origin not in CORS_ORIGINS'), { title: 'Origin not allowed' });

/**
 * Credentialed CORS for the listed origins (the SPA's). A preflight from any other origin is
 * `403 csrf_rejected`, where @fastify/cors would leave it to the 404 handler; every other
 * request from it goes on without CORS headers (the API's own page posting same-origin, a
 * Bearer client), so only preflights are refused. OPTIONS that is not a preflight stays a 404.
 */
export default fp<{ origins: readonly string[] }>(
  async (app, { origins }) => {
    const allowed = new Set(origins);
    if (allowed.size === 0) {
      // No CORS at all, so no hook on every request: only routes, on our own paths, so a
      // host mounting us at its root keeps `OPTIONS *` for its own @fastify/cors.
      for (const path of OWN_PATHS) {
        app.options(path, { schema: { hide: true } }, async (request, reply) => {
          if (isPreflight(request)) throw originNotAllowed();
          return reply.callNotFound();
        });
      }
      return;
    }
    await app.register(cors, {
      // Per request, not per origin: whether to refuse depends on the request being a preflight.
      delegator: (request, callback) => {
        const origin = request.headers.origin;
        if (origin !== undefined && allowed.has(origin)) callback(null, GRANT);
        else if (isPreflight(request)) callback(originNotAllowed());
        else callback(null, { origin: false });
      },
    });
  },
  { name: 'versioned-auth-cors', fastify: '5.x' },
);
