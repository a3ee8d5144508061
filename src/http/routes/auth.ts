import type { FastifyPluginAsync, FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { AuthService, DeviceInfo, SignedIn } from '../../auth/index.js';
import { claimsOf, verifyBearer } from '../authenticate.js';
import { Credentials, LogoutAllResponse, LogoutBody, problemResponses, RefreshBody, TokenResponse } from '../schemas.js';

export interface AuthRoutesOptions {
  auth: AuthService;
  authenticate: onRequestHookHandler;
}

/** Register, login, refresh and logout (Bearer transport). */
export const authRoutes: FastifyPluginAsync<AuthRoutesOptions> = async (fastify, { auth, authenticate }) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();

  app.post(
    '/auth/register',
    { schema: { body: Credentials, response: { 201: TokenResponse, ...problemResponses } } },
    async (request, reply) => {
      const signedIn = await auth.register(request.body, device(request));
      return tokenResponse(reply.code(201), signedIn);
    },
  );

  app.post(
    '/auth/login',
    { schema: { body: Credentials, response: { 200: TokenResponse, ...problemResponses } } },
    async (request, reply) => tokenResponse(reply, await auth.login(request.body, device(request))),
  );

  app.post(
    '/auth/refresh',
    { schema: { body: RefreshBody, response: { 200: TokenResponse, ...problemResponses } } },
    async (request, reply) => tokenResponse(reply, await auth.refresh(request.body.refreshToken, device(request))),
  );

  app.post(
    '/auth/logout',
    {
      // The body is optional here: a Bearer logout sends none.
      preValidation: (request, _reply, done) => {
        request.body ??= {};
        done();
      },
      schema: { body: LogoutBody, response: { 204: Type.Null(), ...problemResponses } },
    },
    async (request, reply) => {
      const { refreshToken } = request.body;
      await auth.logout(refreshToken ? { refreshToken } : { access: verifyBearer(auth, request) });
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/auth/logout-all',
    { onRequest: authenticate, schema: { response: { 200: LogoutAllResponse, ...problemResponses } } },
    async (request) => {
      const { refreshTokenVersion, revokedAt } = await auth.logoutAll(claimsOf(request));
      return { refreshTokenVersion, revokedAt: revokedAt.toISOString() };
    },
  );
};

function device(request: FastifyRequest): DeviceInfo {
  return { userAgent: request.headers['user-agent']?.slice(0, 512) ?? null, ip: request.ip };
}

function tokenResponse(reply: FastifyReply, s: SignedIn) {
  reply.header('cache-control', 'no-store');
  return {
    tokenType: 'Bearer' as const,
    accessToken: s.accessToken,
    expiresIn: s.expiresIn,
    refreshToken: s.refreshToken,
    refreshExpiresIn: s.refreshExpiresIn,
    user: s.user,
  };
}
