import type { FastifyPluginAsync } from 'fastify';
import { problems } from '../problem-responses.js';
import { Jwks } from '../schemas.js';

/** How long a client or cache may keep the key set: a key must be published at least this long before it signs. */
export const JWKS_MAX_AGE_SECONDS = 300;

/**
 * `GET /.well-known/jwks.json`: the public access-token keys (EdDSA/ES256), for other
 * services to verify our tokens; `{"keys":[]}` with HS256, whose key is secret.
 */
export const jwksRoutes: FastifyPluginAsync = async (app) => {
  const { jwks } = app.authTokens;
  const schema = {
    summary: 'The public access-token keys (EdDSA/ES256; empty with HS256)',
    tags: ['operations'],
    operationId: 'jwks',
    response: { 200: Jwks, ...problems([]) },
  };
  app.get('/.well-known/jwks.json', { schema }, (_request, reply) => {
    reply.header('cache-control', `public, max-age=${JWKS_MAX_AGE_SECONDS}`);
    return jwks;
  });
};
