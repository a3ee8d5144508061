import cors from '@fastify/cors';
import fp from 'fastify-plugin';
import { TRANSPORT_HEADER } from '../http/transport.js';

/** Credentialed CORS for the listed origins (the SPA's); nothing when the list is empty. */
export default fp<{ origins: readonly string[] }>(
  async (app, { origins }) => {
    if (origins.length === 0) return;
    const allowed = new Set(origins);
    await app.register(cors, {
      origin: (origin, callback) => callback(null, origin !== undefined && allowed.has(origin)),
      credentials: true,
      methods: ['GET', 'POST', 'DELETE'],
      allowedHeaders: ['Authorization', 'Content-Type', TRANSPORT_HEADER],
      exposedHeaders: ['Retry-After', 'WWW-Authenticate'],
      maxAge: 600,
    });
  },
  { name: 'versioned-auth-cors', fastify: '5.x' },
);
