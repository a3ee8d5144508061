import type {} from '@fastify/jwt';
import type { onRequestHookHandler } from 'fastify';
import type { AccessClaims } from './tokens/claims.js';

/**
 * What both plugins (the service, and versioned-auth/verify for other services) give a host:
 * `app.authenticate` and `request.user`. Imported by each entry point, so a project that
 * imports either one alone gets the types.
 */
declare module '@fastify/jwt' {
  interface FastifyJWT {
    /** `request.user` on a route guarded by `app.authenticate`: the verified access token's claims. */
    user: AccessClaims;
  }
}

declare module 'fastify' {
  interface FastifyInstance {
    /** onRequest hook: verifies the Bearer access token (no database read) and sets `request.user`, or answers 401. */
    authenticate: onRequestHookHandler;
  }
}
