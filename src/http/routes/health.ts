import type { FastifyPluginAsync } from 'fastify';
import { HttpError } from '../errors.js';
import { problems } from '../problem-responses.js';
import { ReadyStatus, Status } from '../schemas.js';

/**
 * Liveness (`/health`, the process serves) and readiness (`/ready`, the database answers).
 * While the revocation feed is down `/ready` still answers 200, saying `degraded`: every
 * instance loses the same feed at once, and a load balancer must not drain them all.
 */
export const healthRoutes: FastifyPluginAsync = async (app) => {
  const { ping } = app.authDatabase;
  const { feed } = app.authRevocation;
  app.get(
    '/health',
    { schema: { summary: 'Liveness: the process serves', tags: ['operations'], operationId: 'health', response: { 200: Status, ...problems([]) } } },
    () => ({ status: 'ok' }),
  );

  const ready = {
    summary: 'Readiness: the database answers (`degraded` while the revocation feed is down)',
    tags: ['operations'],
    operationId: 'ready',
    response: { 200: ReadyStatus, ...problems([]) },
  };
  app.get('/ready', { schema: ready }, async () => {
    try {
      await ping();
    } catch {
      throw new HttpError('service_unavailable', 'The database is not answering');
    }
    if (feed && !feed.up) return { status: 'degraded', revocationFeed: 'down' as const };
    return { status: 'ok' };
  });
};
