import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { BEARER_ONLY, ROUTE_DOCUMENT } from '../openapi.js';
import { BODY_REFUSALS, COOKIE_REFUSALS, problems, RATE_LIMITED, TOKEN_REFUSALS } from '../problem-responses.js';
import { PasswordConfirmation, TransportHeaders } from '../schemas.js';
import { clearRefreshCookie, cookieTransportGuard, transportOf } from '../transport.js';
import { device } from './auth.js';

/** `DELETE /me`: the account and every session, after the password is confirmed. */
export const accountRoutes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const auth = app.authService;
  const { authenticate, claimsOf, cookies } = app.authHttp;

  app.delete(
    '/me',
    {
      onRequest: [authenticate, cookieTransportGuard(cookies)],
      schema: {
        summary: 'Delete the account and every session, after the password is confirmed',
        tags: ['account'],
        operationId: 'deleteAccount',
        [ROUTE_DOCUMENT]: { security: BEARER_ONLY },
        headers: TransportHeaders,
        body: PasswordConfirmation,
        response: {
          204: Type.Null({ description: 'deleted' }),
          ...problems([...BODY_REFUSALS, ...RATE_LIMITED, ...COOKIE_REFUSALS, ...TOKEN_REFUSALS, 'invalid_credentials'], { bearer: true }),
        },
      },
    },
    async (request, reply) => {
      await auth.deleteAccount(claimsOf(request), request.body.password, device(request));
      if (transportOf(request) === 'cookie') clearRefreshCookie(reply, cookies);
      return reply.code(204).send(null);
    },
  );
};
