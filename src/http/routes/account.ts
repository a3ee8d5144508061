import type { FastifyPluginAsync, onRequestHookHandler } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AuthService } from '../../auth/index.js';
import { claimsOf } from '../authenticate.js';
import { PasswordConfirmation, problemResponses, TransportHeaders } from '../schemas.js';
import { clearRefreshCookie, cookieTransportGuard, transportOf, type CookieSettings } from '../transport.js';

/** `DELETE /me`: the account and every session, after the password is confirmed. */
export const accountRoutes: FastifyPluginAsync<{
  auth: AuthService;
  authenticate: onRequestHookHandler;
  cookies: CookieSettings;
}> = async (fastify, { auth, authenticate, cookies }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.delete(
    '/me',
    {
      onRequest: [authenticate, cookieTransportGuard(cookies)],
      schema: { headers: TransportHeaders, body: PasswordConfirmation, response: { 204: Type.Null(), ...problemResponses } },
    },
    async (request, reply) => {
      await auth.deleteAccount(claimsOf(request), request.body.password);
      if (transportOf(request) === 'cookie') clearRefreshCookie(reply, cookies);
      return reply.code(204).send(null);
    },
  );
};
