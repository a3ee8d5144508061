import type { FastifyReply, FastifyRequest, HookHandlerDoneFunction, onRequestHookHandler } from 'fastify';
import { AuthError } from '../errors.js';
import { HttpError } from '../http/errors.js';
import type { AccessClaims, Tokens } from '../tokens/index.js';
import { sendProblem } from './problem.js';
import type { RevocationCheck } from './revocation.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's credential is a Bearer token: its 401s carry `WWW-Authenticate` (our routes only). */
    bearerCredential: boolean;
  }
}

/**
 * The access token of `Authorization: Bearer <token>` (scheme case-insensitive), verified:
 * signature and claims only, no database read. Throws `token_missing` when there is no header.
 */
export function verifyBearer(tokens: Pick<Tokens, 'verifyAccess'>, request: FastifyRequest): AccessClaims {
  const header = request.headers.authorization;
  if (header === undefined || header === '') throw new HttpError('token_missing', 'Authentication required');
  if (header.length <= 7 || header.slice(0, 7).toLowerCase() !== 'bearer ') {
    throw new AuthError('token_invalid', 'The token is invalid');
  }
  return tokens.verifyAccess(header.slice(7));
}

/**
 * The protected-request hook: synchronous, no promise, no database. Sets
 * `request[userProperty]` to the verified claims, or answers the 401 itself in problem+json
 * (on a host's routes no error handler of ours would). `ownRoutes` also marks the request
 * so that later 401s from our handlers carry `WWW-Authenticate`. `revoked`, when given, is
 * asked after the signature (the in-memory revocation list: two Map lookups at most).
 * `retry`, when given, may answer a refusal with a promise (versioned-auth/verify fetching
 * the key of an unknown `kid`): the token is then verified again once it settles.
 * `refused`, when given, hears the code of every refusal it answers (the metrics).
 */
export function createAuthenticate(
  tokens: Pick<Tokens, 'verifyAccess'>,
  userProperty: string,
  ownRoutes: boolean,
  revoked?: RevocationCheck,
  retry?: (error: AuthError) => Promise<void> | undefined,
  refused?: (code: string) => void,
): onRequestHookHandler {
  // `retried` is ours alone (Fastify passes three arguments): a retry's answer stands.
  const authenticate = (request: FastifyRequest, reply: FastifyReply, done: HookHandlerDoneFunction, retried?: true) => {
    // Answers to a credential are the user's own: no shared or browser cache keeps them.
    reply.header('cache-control', 'no-store');
    if (ownRoutes) request.bearerCredential = true;
    let claims: AccessClaims;
    try {
      claims = verifyBearer(tokens, request);
    } catch (error) {
      if (!(error instanceof AuthError || error instanceof HttpError)) return done(error as Error);
      const again = retry !== undefined && retried === undefined && error instanceof AuthError ? retry(error) : undefined;
      if (again) return void again.then(() => authenticate(request, reply, done, true));
      refused?.(error.code);
      sendProblem(reply, error.code, true);
      return;
    }
    if (revoked !== undefined) {
      const refusal = revoked(claims);
      if (refusal !== undefined) {
        refused?.(refusal);
        sendProblem(reply, refusal, true);
        return;
      }
    }
    (request as unknown as Record<string, unknown>)[userProperty] = claims;
    done();
  };
  return authenticate;
}
