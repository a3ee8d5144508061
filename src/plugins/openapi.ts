import { readFileSync } from 'node:fs';
import swagger, { type SwaggerTransform, type SwaggerTransformObject } from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import fp from 'fastify-plugin';
import { ROUTE_DOCUMENT, securitySchemes, type RouteDocument } from '../http/openapi.js';
import { CATCH_ALL_STATUSES, problems } from '../http/problem-responses.js';
import type { CookieSettings } from '../http/transport.js';

export interface OpenApiOptions {
  /** The cookie transport's settings: the refresh cookie's name and path in the security scheme. */
  cookies: Pick<CookieSettings, 'name' | 'path'>;
  /** `GET /docs`, Swagger UI (DOCS, or outside production). */
  docs: boolean;
  /** The plugin's prefix: the UI's asset links carry it. */
  prefix: string;
}

/** Where Swagger UI lives, under the plugin's prefix. */
export const DOCS_PATH = '/docs';

/**
 * Swagger UI's page and assets: its scripts and styles from its own static route, its logo a
 * `data:` image, the document and "Try it out" fetched from this origin; nothing may frame it.
 * The one hash is the one `<style>` element the bundle (swagger-ui 5, @fastify/swagger-ui 6.1)
 * injects, as Chromium reports it; test/browser/docs.test.ts fails, naming the new hash, if a
 * version injects another.
 */
export const DOCS_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'sha256-RL3ie0nH+Lzz2YNqQN83mnU0J1ot4QL7b99vMdIX99w='; " +
  "img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/** How long a client or cache may keep /openapi.json: it changes only with a deployment. */
const DOCUMENT_MAX_AGE_SECONDS = 300;

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

/** Marks an operation whose body may be left out, from `transform` to `transformObject`. */
const OPTIONAL_BODY = 'x-optional-body';

/**
 * What the document shows of a route: not the CORS preflight routes, not the catch-all error
 * schemas (src/http/problem-responses.ts), which exist for serialisation alone, and what the
 * route's `ROUTE_DOCUMENT` says.
 */
const documented: SwaggerTransform = ({ schema, url, route }) => {
  const methods = [route.method].flat();
  if (methods.every((method) => method === 'OPTIONS')) return { schema: { ...schema, hide: true }, url };
  const { [ROUTE_DOCUMENT]: extra, ...rest } = (schema ?? {}) as Record<string, unknown>;
  const { security, optionalBody } = (extra ?? {}) as RouteDocument;
  const response = rest.response as Record<string, unknown> | undefined;
  const declared = response && Object.fromEntries(Object.entries(response).filter(([status]) => !CATCH_ALL_STATUSES.has(status)));
  return {
    schema: { ...rest, ...(declared ? { response: declared } : {}), ...(security ? { security } : {}), ...(optionalBody ? { [OPTIONAL_BODY]: true } : {}) },
    url,
  };
};

/**
 * @fastify/swagger marks every request body required (Fastify's own rule for a schema'd body);
 * refresh and logout take none at all, their credential riding in a cookie or a header.
 */
const optionalBodies: SwaggerTransformObject = (documentObject) => {
  const openapiObject = 'openapiObject' in documentObject ? documentObject.openapiObject : documentObject.swaggerObject;
  const document = openapiObject as { paths?: Record<string, Record<string, Record<string, unknown>>> };
  for (const operation of Object.values(document.paths ?? {}).flatMap((item) => Object.values(item))) {
    if (operation[OPTIONAL_BODY] === undefined) continue;
    delete operation[OPTIONAL_BODY];
    if (operation.requestBody) (operation.requestBody as { required: boolean }).required = false;
  }
  return openapiObject;
};

/**
 * The OpenAPI 3.1 document of the routes of the context it is registered in, built by
 * @fastify/swagger from their schemas as they register (an `onRoute` hook, nothing per
 * request), at `GET /openapi.json`; Swagger UI at `GET /docs` when `docs`. Encapsulated with
 * our routes, it neither sees nor clashes with a host's own @fastify/swagger.
 */
export default fp<OpenApiOptions>(
  async (app, { cookies, docs, prefix }) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'versioned-auth',
          version,
          description:
            'JWT authentication with versioned refresh tokens. Errors are `application/problem+json` ' +
            '(RFC 9457) with a stable machine-readable `code`; each response lists the codes it can carry.',
        },
        tags: [
          { name: 'sign-in', description: 'Tokens: register, login, refresh, logout (Bearer or cookie transport)' },
          { name: 'sessions', description: "The caller's sessions (devices)" },
          { name: 'account', description: 'The signed-in user' },
          { name: 'operations', description: 'Health, readiness, keys and this document' },
        ],
        components: { securitySchemes: securitySchemes(cookies) },
      },
      transform: documented,
      transformObject: optionalBodies,
    });

    let document: string | undefined;
    const schema = {
      summary: 'This document',
      tags: ['operations'],
      operationId: 'openapi',
      response: { 200: { type: 'object', description: 'The OpenAPI 3.1 document' }, ...problems([]) },
    };
    app.get('/openapi.json', { schema }, (_request, reply) => {
      // Built on the first request, after every route has registered; the same bytes after.
      document ??= JSON.stringify(app.swagger());
      return reply.header('cache-control', `public, max-age=${DOCUMENT_MAX_AGE_SECONDS}`).type('application/json; charset=utf-8').send(document);
    });

    if (docs) {
      await app.register(swaggerUi, {
        routePrefix: DOCS_PATH,
        indexPrefix: prefix,
        staticCSP: DOCS_CSP,
        uiConfig: { deepLinking: true },
        validatorUrl: false,
      });
    }
  },
  { name: 'versioned-auth-openapi', fastify: '5.x' },
);
