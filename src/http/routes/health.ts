import type { FastifyPluginAsync } from 'fastify';
import { HttpError } from '../errors.js';
import { problemResponses, ReadyStatus, Status } from '../schemas.js';

/**
 * Liveness (`/health`, the process serves) and readiness (`/ready`, the database answers).
 * While the revocation feed is down `/ready` still answers 200, saying `degraded`: every
 * instance loses the same feed at once, and a load balancer must not drain them all.
 */
export const healthRoutes: FastifyPluginAsync = async (app) => {
  const { ping } = app.authDatabase;
  const { feed } = app.authRevocation;
  app.get('/health', { schema: { response: { 200: Status } } }, () => ({ status: 'ok' }));

  app.get('/ready', { schema: { response: { 200: ReadyStatus, ...problemResponses } } }, async () => {
    try {
      await ping();
    } catch {
      throw new HttpError('service_unavailable', 'The database is not answering');
    }
    if (feed && !feed.up) return { status: 'degraded', revocationFeed: 'down' as const };
    return { status: 'ok' };
  });
};
