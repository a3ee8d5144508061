import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { BEARER_ONLY, ROUTE_DOCUMENT } from '../openapi.js';
import { BODY_REFUSALS, problems, RATE_LIMITED, TOKEN_REFUSALS } from '../problem-responses.js';
import { SessionList, SessionParams } from '../schemas.js';
import { device } from './auth.js';

/** Device management: list the caller's sessions and sign one out. */
export const sessionRoutes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const auth = app.authService;
  const { authenticate, claimsOf } = app.authHttp;

  app.get(
    '/auth/sessions',
    {
      onRequest: authenticate,
      schema: {
        summary: "The caller's sessions (devices)",
        tags: ['sessions'],
        operationId: 'listSessions',
        [ROUTE_DOCUMENT]: { security: BEARER_ONLY },
        response: { 200: SessionList, ...problems([...RATE_LIMITED, ...TOKEN_REFUSALS], { bearer: true }) },
      },
    },
    async (request) => {
      const sessions = await auth.listSessions(claimsOf(request));
      return {
        sessions: sessions.map((s) => ({
          ...s,
          createdAt: s.createdAt.toISOString(),
          lastUsedAt: s.lastUsedAt.toISOString(),
          expiresAt: s.expiresAt.toISOString(),
        })),
      };
    },
  );

  app.delete(
    '/auth/sessions/:id',
    {
      onRequest: authenticate,
      schema: {
        summary: "Sign one of the caller's sessions out",
        tags: ['sessions'],
        operationId: 'revokeSession',
        [ROUTE_DOCUMENT]: { security: BEARER_ONLY },
        params: SessionParams,
        response: {
          204: Type.Null({ description: 'revoked' }),
          ...problems([...BODY_REFUSALS, ...RATE_LIMITED, ...TOKEN_REFUSALS, 'not_found'], { bearer: true }),
        },
      },
    },
    async (request, reply) => {
      await auth.revokeSession(claimsOf(request), request.params.id, device(request));
      return reply.code(204).send(null);
    },
  );
};
