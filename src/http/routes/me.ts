import type { FastifyPluginAsync } from 'fastify';
import { BEARER_ONLY, ROUTE_DOCUMENT } from '../openapi.js';
import { problems, TOKEN_REFUSALS } from '../problem-responses.js';
import { Me } from '../schemas.js';

const schema = {
  summary: 'The signed-in user, from the access token alone',
  tags: ['account'],
  operationId: 'me',
  [ROUTE_DOCUMENT]: { security: BEARER_ONLY },
  response: { 200: Me, ...problems(TOKEN_REFUSALS, { bearer: true }) },
};

/** `GET /me`: the hot path. Answered from the access token alone. */
export const meRoutes: FastifyPluginAsync = async (app) => {
  const { authenticate, claimsOf } = app.authHttp;
  app.get('/me', { onRequest: authenticate, schema }, (request) => {
    const claims = claimsOf(request);
    return { id: claims.sub, email: claims.email, sessionId: claims.sid };
  });
};
