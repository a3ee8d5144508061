import type { FastifyPluginAsync } from 'fastify';
import { HttpError } from '../errors.js';
import { problemResponses, Status } from '../schemas.js';

/** Liveness (`/health`, the process serves) and readiness (`/ready`, the database answers). */
export const healthRoutes: FastifyPluginAsync = async (app) => {
  const { ping } = app.authDatabase;
  app.get('/health', { schema: { response: { 200: Status } } }, () => ({ status: 'ok' }));

  app.get('/ready', { schema: { response: { 200: Status, ...problemResponses } } }, async () => {
    try {
      await ping();
    } catch {
      throw new HttpError('service_unavailable', 'The database is not answering');
    }
    return { status: 'ok' };
  });
};
