import type { FastifyPluginAsync } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { BEARER_ONLY, ROUTE_DOCUMENT } from '../openapi.js';
import { problems, RATE_LIMITED, TOKEN_REFUSALS } from '../problem-responses.js';
import { AuthEventList, EVENTS_PAGE_DEFAULT, EventsQuery } from '../schemas.js';

/** The caller's security log: sign-ins, sign-outs and account changes, newest first. */
export const eventRoutes: FastifyPluginAsync = async (fastify) => {
  const app = fastify.withTypeProvider<TypeBoxTypeProvider>();
  const auth = app.authService;
  const { authenticate, claimsOf } = app.authHttp;

  app.get(
    '/auth/events',
    {
      onRequest: authenticate,
      schema: {
        summary: "The caller's security log, newest first, a page at a time",
        tags: ['account'],
        operationId: 'listEvents',
        [ROUTE_DOCUMENT]: { security: BEARER_ONLY },
        querystring: EventsQuery,
        response: { 200: AuthEventList, ...problems(['validation_failed', ...RATE_LIMITED, ...TOKEN_REFUSALS], { bearer: true }) },
      },
    },
    async (request) => {
      const { limit, before } = request.query;
      const page = await auth.listEvents(claimsOf(request), { limit: limit === undefined ? EVENTS_PAGE_DEFAULT : Number(limit), before });
      return {
        events: page.events.map(({ code, at, ...event }) => ({ ...event, at: at.toISOString(), ...(code === null ? {} : { code }) })),
        next: page.next,
      };
    },
  );
};
