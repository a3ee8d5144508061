import type { FastifyRequest, onRequestHookHandler } from 'fastify';
import type { AuthService } from '../auth/index.js';
import { AuthError } from '../errors.js';
import type { AccessClaims } from '../tokens/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Claims of the verified access token, on routes that require one. */
    auth: AccessClaims | null;
    /** The request's credential is a Bearer token: its 401s carry `WWW-Authenticate`. */
    bearer: boolean;
  }
}

/**
 * Verifies `Authorization: Bearer <token>` (scheme case-insensitive): signature and claims
 * only, no database read. Throws `token_missing` when there is no header.
 */
export function verifyBearer(auth: AuthService, request: FastifyRequest): AccessClaims {
  request.bearer = true;
  const header = request.headers.authorization;
  if (header === undefined || header === '') throw new AuthError('token_missing', 'Authentication required');
  if (header.length <= 7 || header.slice(0, 7).toLowerCase() !== 'bearer ') {
    throw new AuthError('token_invalid', 'The token is invalid');
  }
  return auth.verifyAccess(header.slice(7));
}

/** The protected-request hook: no promise, no database; sets `request.auth`. */
export function createAuthenticate(auth: AuthService): onRequestHookHandler {
  return function authenticate(request, reply, done) {
    // Answers to a credential are the user's own: no shared or browser cache keeps them.
    reply.header('cache-control', 'no-store');
    try {
      request.auth = verifyBearer(auth, request);
      done();
    } catch (error) {
      done(error as Error);
    }
  };
}

/** The claims set by the authenticate hook; only call on routes that use it. */
export function claimsOf(request: FastifyRequest): AccessClaims {
  if (!request.auth) throw new Error('route is missing the authenticate hook');
  return request.auth;
}
