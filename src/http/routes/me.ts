import type { FastifyPluginAsync } from 'fastify';
import { Me, problemResponses } from '../schemas.js';

/** `GET /me`: the hot path. Answered from the access token alone. */
export const meRoutes: FastifyPluginAsync = async (app) => {
  const { authenticate, claimsOf } = app.authHttp;
  app.get('/me', { onRequest: authenticate, schema: { response: { 200: Me, ...problemResponses } } }, (request) => {
    const claims = claimsOf(request);
    return { id: claims.sub, email: claims.email, sessionId: claims.sid };
  });
};
