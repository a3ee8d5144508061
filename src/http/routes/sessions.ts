import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { problemResponses, SessionList, SessionParams } from '../schemas.js';

/** Device management: list the caller's sessions and sign one out. */
export const sessionRoutes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const auth = app.authService;
  const { authenticate, claimsOf } = app.authHttp;

  app.get(
    '/auth/sessions',
    { onRequest: authenticate, schema: { response: { 200: SessionList, ...problemResponses } } },
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
    { onRequest: authenticate, schema: { params: SessionParams, response: { 204: Type.Null(), ...problemResponses } } },
    async (request, reply) => {
      await auth.revokeSession(claimsOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );
};
