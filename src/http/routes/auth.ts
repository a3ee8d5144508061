import type { FastifyPluginAsync, FastifyReply, FastifyRequest, preValidationHookHandler } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { DeviceInfo } from '../../auth/index.js';
import { AuthError } from '../../errors.js';
import { HttpError } from '../errors.js';
import { verifyBearer } from '../../plugins/authenticate.js';
import { BEARER_ONLY, LOGOUT_CREDENTIAL, REFRESH_CREDENTIAL, ROUTE_DOCUMENT } from '../openapi.js';
import { BODY_REFUSALS, COOKIE_REFUSALS, problems, RATE_LIMITED, TOKEN_REFUSALS } from '../problem-responses.js';
import {
  Credentials,
  LogoutAllResponse,
  LogoutOthersResponse,
  PasswordChange,
  RefreshTokenBody,
  TokenResponse,
  TransportHeaders,
} from '../schemas.js';
import {
  clearRefreshCookie,
  cookieTransportGuard,
  refreshTokenFromCookie,
  sendTokens,
  transportOf,
  type CookieSettings,
} from '../transport.js';

/** Sign-in, rotation, sign-out and password change, in Bearer or cookie transport. */
export const authRoutes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const auth = app.authService;
  const { authenticate, claimsOf, cookies } = app.authHttp;
  const guard = cookieTransportGuard(cookies);
  // Every route here takes a body (JSON or none), is rate-limited, and those with the guard take cookie transport.
  const base = [...BODY_REFUSALS, ...RATE_LIMITED];
  const withCookie = [...base, ...COOKIE_REFUSALS];

  app.post(
    '/auth/register',
    {
      onRequest: guard,
      schema: {
        summary: 'Create an account and sign in',
        tags: ['sign-in'],
        operationId: 'register',
        headers: TransportHeaders,
        body: Credentials,
        response: { 201: TokenResponse, ...problems([...withCookie, 'email_taken']) },
      },
    },
    async (request, reply) => sendTokens(request, reply.code(201), cookies, await auth.register(request.body, device(request))),
  );

  app.post(
    '/auth/login',
    {
      onRequest: guard,
      schema: {
        summary: 'Sign in with email and password',
        tags: ['sign-in'],
        operationId: 'login',
        headers: TransportHeaders,
        body: Credentials,
        response: { 200: TokenResponse, ...problems([...withCookie, 'invalid_credentials']) },
      },
    },
    async (request, reply) => sendTokens(request, reply, cookies, await auth.login(request.body, device(request))),
  );

  app.post(
    '/auth/refresh',
    {
      onRequest: guard,
      preValidation: optionalBody,
      schema: {
        summary: 'Rotate a refresh token: new tokens for the same session',
        tags: ['sign-in'],
        operationId: 'refresh',
        [ROUTE_DOCUMENT]: { security: REFRESH_CREDENTIAL, optionalBody: true },
        headers: TransportHeaders,
        body: RefreshTokenBody,
        response: { 200: TokenResponse, ...problems([...withCookie, ...TOKEN_REFUSALS, 'refresh_token_reused']) },
      },
    },
    async (request, reply) => {
      const fromBody = request.body.refreshToken;
      const token = fromBody ?? refreshTokenFromCookie(request, cookies);
      if (!token) throw new HttpError('token_missing', 'A refresh token is required');
      const signedIn = await clearCookieOnRefusal(reply, cookies, !fromBody, () => auth.refresh(token, device(request)));
      return sendTokens(request, reply, cookies, signedIn);
    },
  );

  app.post(
    '/auth/logout',
    {
      onRequest: guard,
      preValidation: optionalBody,
      schema: {
        summary: 'Sign this session out (refresh token in the body or cookie, or a Bearer access token)',
        tags: ['sign-in'],
        operationId: 'logout',
        [ROUTE_DOCUMENT]: { security: LOGOUT_CREDENTIAL, optionalBody: true },
        headers: TransportHeaders,
        body: RefreshTokenBody,
        response: { 204: Type.Null({ description: 'signed out; in cookie transport the cookie is cleared' }), ...problems([...withCookie, ...TOKEN_REFUSALS], { bearer: true }) },
      },
    },
    async (request, reply) => {
      const cookieTransport = transportOf(request) === 'cookie';
      await clearCookieOnRefusal(reply, cookies, cookieTransport, async () => {
        const { refreshToken } = request.body;
        // A Bearer request is never affected by a cookie that happens to ride along.
        const bearerOnly = request.headers.authorization !== undefined && !cookieTransport;
        const token = refreshToken ?? (bearerOnly ? undefined : refreshTokenFromCookie(request, cookies));
        if (token) return auth.logout({ refreshToken: token }, device(request));
        request.bearerCredential = true;
        await auth.logout({ access: verifyBearer(app.authTokens, request) }, device(request));
      });
      if (cookieTransport) clearRefreshCookie(reply, cookies);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/auth/logout-all',
    {
      onRequest: authenticate,
      schema: {
        summary: "Sign out everywhere: every refresh token of the user dies",
        tags: ['sessions'],
        operationId: 'logoutAll',
        [ROUTE_DOCUMENT]: { security: BEARER_ONLY },
        response: { 200: LogoutAllResponse, ...problems([...base, ...TOKEN_REFUSALS], { bearer: true }) },
      },
    },
    async (request) => {
      const { refreshTokenVersion, revokedAt } = await auth.logoutAll(claimsOf(request), device(request));
      return { refreshTokenVersion, revokedAt: revokedAt.toISOString() };
    },
  );

  app.post(
    '/auth/logout-others',
    {
      onRequest: authenticate,
      schema: {
        summary: "Sign out every session but the caller's",
        tags: ['sessions'],
        operationId: 'logoutOthers',
        [ROUTE_DOCUMENT]: { security: BEARER_ONLY },
        response: { 200: LogoutOthersResponse, ...problems([...base, ...TOKEN_REFUSALS], { bearer: true }) },
      },
    },
    async (request) => ({ revokedSessions: await auth.logoutOthers(claimsOf(request), device(request)) }),
  );

  app.post(
    '/auth/password',
    {
      onRequest: [authenticate, guard],
      schema: {
        summary: 'Change the password: a new session, every other one revoked',
        tags: ['account'],
        operationId: 'changePassword',
        [ROUTE_DOCUMENT]: { security: BEARER_ONLY },
        headers: TransportHeaders,
        body: PasswordChange,
        response: { 200: TokenResponse, ...problems([...withCookie, ...TOKEN_REFUSALS, 'invalid_credentials'], { bearer: true }) },
      },
    },
    async (request, reply) =>
      sendTokens(request, reply, cookies, await auth.changePassword(claimsOf(request), request.body, device(request))),
  );
};

/** The device as seen now: stored at sign-in and updated at each refresh. */
export function device(request: FastifyRequest): DeviceInfo {
  return { userAgent: request.headers['user-agent']?.slice(0, 512) ?? null, ip: request.ip };
}

/** Refresh and logout may come with no body at all (cookie or Bearer credential). */
const optionalBody: preValidationHookHandler = (request, _reply, done) => {
  request.body ??= {};
  done();
};

const REFUSALS = new Set(['token_invalid', 'token_expired', 'token_revoked', 'refresh_token_reused']);

/** A refused cookie credential clears the cookie, so a dead one does not loop. */
async function clearCookieOnRefusal<T>(
  reply: FastifyReply,
  cookies: CookieSettings,
  usesCookie: boolean,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (usesCookie && error instanceof AuthError && REFUSALS.has(error.code)) clearRefreshCookie(reply, cookies);
    throw error;
  }
}
