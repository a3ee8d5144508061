import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { CATCH_ALL_STATUSES, PROBLEM_MEDIA_TYPE } from '../../src/http/problem-responses.js';

/**
 * Answers that the route's schema (and so the OpenAPI document) does not declare, collected
 * over a test file: test/support/declared-responses-setup.ts fails the file on any. Every
 * test of the suite is thereby a check that the document says what the server answers.
 */
export const undeclaredResponses: string[] = [];

interface DeclaredResponse {
  content?: Record<string, { schema?: { properties?: { code?: { enum?: unknown[] } } } }>;
}

/** Why this answer is not what its route declares, or undefined when it is. */
export function undeclared(request: FastifyRequest, reply: FastifyReply, payload: unknown): string | undefined {
  const { schema, method, url } = request.routeOptions;
  const responses = schema?.response as Record<string, DeclaredResponse | undefined> | undefined;
  // Routes without declared answers (a test host's own), hidden ones (Swagger UI's assets) and preflights.
  if (!responses || (schema as { hide?: boolean }).hide || method === 'OPTIONS') return undefined;
  const status = String(reply.statusCode);
  const where = `${request.method} ${url} ${status}`;
  const declared = CATCH_ALL_STATUSES.has(status) ? undefined : responses[status];
  if (!declared) return `${where}: status not declared`;
  if (!declared.content) return undefined;
  const mediaType = String(reply.getHeader('content-type') ?? '').split(';')[0]!.trim();
  const media = declared.content[mediaType];
  if (!media) return `${where}: ${mediaType || 'no content type'} not declared`;
  const codes = media.schema?.properties?.code?.enum;
  if (mediaType !== PROBLEM_MEDIA_TYPE || !codes) return undefined;
  const code = typeof payload === 'string' ? (JSON.parse(payload) as { code?: unknown }).code : undefined;
  return codes.includes(code) ? undefined : `${where}: code ${String(code)} not declared (${codes.join(', ')})`;
}

/** Records every answer of `app` that its route does not declare (one onSend hook; JSON parsed for problems only). */
export function checkDeclaredResponses(app: FastifyInstance): void {
  app.addHook('onSend', (request, reply, payload, done) => {
    const problem = undeclared(request, reply, payload);
    if (problem !== undefined && !undeclaredResponses.includes(problem)) undeclaredResponses.push(problem);
    done(null, payload);
  });
}
