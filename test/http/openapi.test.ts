import { randomBytes } from 'node:crypto';
import swagger from '@fastify/swagger';
import { Validator } from '@seriousme/openapi-schema-validator';
import Fastify, { type FastifyInstance, type RouteOptions } from 'fastify';
import { Type } from 'typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import versionedAuth, { loadConfig } from '../../src/index.js';
import type { VersionedAuthOptions } from '../../src/plugin.js';
import { CATCH_ALL_STATUSES, PROBLEM_MEDIA_TYPE, problems } from '../../src/http/problem-responses.js';
import { DOCS_CSP } from '../../src/plugins/openapi.js';
import { sendProblem } from '../../src/plugins/problem.js';
import { ConfigError } from '../../src/config/index.js';
import { checkDeclaredResponses, undeclaredResponses } from '../support/declared-responses.js';
import { buildTestApp, type TestApp } from '../helper.js';

type Operation = { responses: Record<string, { content?: Record<string, { schema: { properties?: Record<string, { enum?: unknown[] }> } }> }> };
type Document = { openapi: string; paths: Record<string, Record<string, Operation>>; components: { securitySchemes: Record<string, unknown> } };

/** Fastify's `/auth/sessions/:id` as OpenAPI writes it. */
const openapiPath = (url: string) => url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

/** The routes a client can call: not HEAD (Fastify's copies of GET), preflights, or Swagger UI's own (hidden). */
const callable = (route: RouteOptions) =>
  route.method !== 'HEAD' && route.method !== 'OPTIONS' && !(route.schema as { hide?: boolean } | undefined)?.hide;

// One database for the file: every app below (hosts included) shares it, as instances would.
let t: TestApp;
const routes: RouteOptions[] = [];
beforeAll(async () => {
  t = await buildTestApp({}, { onRoute: (route) => void routes.push(route) });
});
afterAll(() => t?.close());

describe('GET /openapi.json', () => {
  let document: Document;

  beforeAll(async () => {
    const res = await t.app.inject('/openapi.json');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['cache-control']).toBe('public, max-age=300');
    document = res.json();
  });

  it('is a valid OpenAPI 3.1 document', async () => {
    const result = await new Validator().validate(structuredClone(document));
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
    expect(document.openapi).toBe('3.1.0');
  });

  it('lists every route the server has, with its methods and declared statuses, and nothing else', () => {
    const served = routes.filter(callable);
    expect(served.length).toBeGreaterThanOrEqual(15);
    const inApp = new Set<string>();
    for (const route of served) {
      const method = String(route.method).toLowerCase();
      const key = `${method} ${openapiPath(route.url)}`;
      inApp.add(key);
      const operation = document.paths[openapiPath(route.url)]?.[method];
      expect(operation, `${key} is missing from the document`).toBeDefined();
      const declared = Object.keys((route.schema?.response ?? {}) as object).filter((status) => !CATCH_ALL_STATUSES.has(status));
      expect(declared.length, `${key} declares no responses`).toBeGreaterThan(0);
      expect(Object.keys(operation!.responses).sort(), key).toEqual(declared.sort());
    }
    const inDocument = Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method} ${path}`));
    expect(inDocument.sort()).toEqual([...inApp].sort());
  });

  it('hides nothing but Swagger UI\'s own routes: a route marked hidden would escape both the document and the drift check', () => {
    const hidden = routes.filter((route) => route.method !== 'HEAD' && route.method !== 'OPTIONS' && !callable(route));
    expect(hidden.length).toBeGreaterThan(0);
    for (const route of hidden) expect(route.url, `${String(route.method)} ${route.url} is hidden`).toMatch(/^\/docs(\/|$)/);
  });

  it('names the contract routes', () => {
    const listed = Object.entries(document.paths).flatMap(([path, item]) => Object.keys(item).map((method) => `${method.toUpperCase()} ${path}`));
    for (const route of [
      'POST /auth/register',
      'POST /auth/login',
      'POST /auth/refresh',
      'POST /auth/logout',
      'POST /auth/logout-all',
      'POST /auth/logout-others',
      'GET /auth/sessions',
      'DELETE /auth/sessions/{id}',
      'GET /auth/events',
      'POST /auth/password',
      'GET /me',
      'DELETE /me',
      'GET /health',
      'GET /ready',
      'GET /.well-known/jwks.json',
      'GET /openapi.json',
    ]) {
      expect(listed).toContain(route);
    }
  });

  it('declares every error as application/problem+json with the codes of its status', () => {
    for (const [path, item] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(item)) {
        for (const [status, response] of Object.entries(operation.responses)) {
          if (Number(status) < 400) continue;
          expect(Object.keys(response.content ?? {}), `${method} ${path} ${status}`).toEqual([PROBLEM_MEDIA_TYPE]);
          const codes = response.content![PROBLEM_MEDIA_TYPE]!.schema.properties?.code?.enum;
          expect(codes?.length, `${method} ${path} ${status}`).toBeGreaterThan(0);
        }
      }
    }
    const login = document.paths['/auth/login']!.post!.responses;
    expect(login['401']!.content![PROBLEM_MEDIA_TYPE]!.schema.properties!.code!.enum).toEqual(['invalid_credentials']);
    const me = document.paths['/me']!.get!.responses;
    expect(Object.keys(me).sort()).toEqual(['200', '401', '500', '503']);
    expect(me['401']!.content![PROBLEM_MEDIA_TYPE]!.schema.properties!.code!.enum).toEqual(['token_missing', 'token_invalid', 'token_expired', 'token_revoked']);
  });

  it('describes the Bearer and cookie credentials', () => {
    expect(document.components.securitySchemes).toMatchObject({
      bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' },
      refreshCookie: { type: 'apiKey', in: 'cookie', name: '__Secure-refresh_token' },
    });
    const operations = document.paths as unknown as Record<string, Record<string, { security?: unknown; requestBody?: { required: boolean } }>>;
    expect(operations['/me']!.get!.security).toEqual([{ bearerAuth: [] }]);
    expect(operations['/auth/refresh']!.post!.security).toEqual([{ refreshCookie: [] }, {}]);
    expect(operations['/auth/refresh']!.post!.requestBody!.required).toBe(false);
    expect(operations['/auth/login']!.post!.requestBody!.required).toBe(true);
    expect(operations['/auth/login']!.post!.security).toBeUndefined();
  });
});

describe('the check of declared answers', () => {
  it('records an undeclared status and an undeclared code', async () => {
    const app = Fastify();
    checkDeclaredResponses(app);
    const schema = { response: { 200: Type.Object({}), ...problems(['token_missing']) } };
    app.get('/conflict', { schema }, (_request, reply) => sendProblem(reply, 'email_taken', false));
    app.get('/expired', { schema }, (_request, reply) => sendProblem(reply, 'token_expired', false));
    app.get('/fine', { schema }, (_request, reply) => sendProblem(reply, 'token_missing', false));
    await app.ready();
    const before = undeclaredResponses.length;
    for (const url of ['/conflict', '/expired', '/fine']) await app.inject(url);
    const found = undeclaredResponses.splice(before);
    await app.close();
    expect(found).toEqual(['GET /conflict 409: status not declared', 'GET /expired 401: code token_expired not declared (token_missing)']);
  });
});

describe('GET /docs', () => {
  it('serves Swagger UI and every asset its page links to, under a CSP that lets them load', async () => {
    const page = await t.app.inject('/docs');
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['content-security-policy']).toBe(DOCS_CSP);
    const assets = [...page.body.matchAll(/(?:src|href)="([^"]+)"/g)].map((match) => match[1]!);
    expect(assets).toContain('/docs/static/swagger-ui-bundle.js');
    for (const asset of [...assets, '/docs/json']) {
      const res = await t.app.inject(asset);
      expect(res.statusCode, asset).toBe(200);
      expect(res.headers['content-security-policy'], asset).toBe(DOCS_CSP);
    }
  });
});

describe('DOCS', () => {
  const secrets = { JWT_ACCESS_SECRET: randomBytes(32).toString('hex'), JWT_REFRESH_SECRET: randomBytes(32).toString('hex') };

  it('is on outside production and off in it, unless set', () => {
    expect(loadConfig({}).docs).toBe(true);
    expect(loadConfig({ DOCS: 'off' }).docs).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', ...secrets }).docs).toBe(false);
    expect(loadConfig({ NODE_ENV: 'production', DOCS: 'on', ...secrets }).docs).toBe(true);
  });

  it('refuses a bad value with one line naming it', () => {
    expect(() => loadConfig({ DOCS: 'yes' })).toThrow(new ConfigError('DOCS', '"yes" must be one of on, off'));
  });

  it('off: /docs is a 404 and /openapi.json is still served', async () => {
    const app = await t.another({ config: { ...t.config, production: true, docs: false } });
    const docs = await app.inject('/docs');
    expect(docs.statusCode).toBe(404);
    expect(docs.headers['content-type']).toContain(PROBLEM_MEDIA_TYPE);
    expect((await app.inject('/docs/static/swagger-ui-bundle.js')).statusCode).toBe(404);
    expect((await app.inject('/openapi.json')).statusCode).toBe(200);
  });
});

describe('in a host', () => {
  const hosts: FastifyInstance[] = [];
  afterAll(async () => {
    for (const host of hosts) await host.close();
  });

  /** A host app; `setup` registers the plugin (with these options) and the rest. */
  async function host(setup: (app: FastifyInstance, options: VersionedAuthOptions) => Promise<void>): Promise<FastifyInstance> {
    const app = Fastify();
    hosts.push(app);
    checkDeclaredResponses(app);
    await setup(app, { config: t.config, database: t.database });
    await app.ready();
    return app;
  }

  it('moves the document, its paths and the UI under the prefix', async () => {
    const app = await host(async (h, options) => {
      await h.register(versionedAuth, { ...options, prefix: '/api' });
    });
    const document = (await app.inject('/api/openapi.json')).json() as Document;
    expect(Object.keys(document.paths)).toContain('/api/auth/login');
    expect(Object.keys(document.paths)).toContain('/api/openapi.json');
    expect((await new Validator().validate(structuredClone(document))).valid).toBe(true);
    const page = await app.inject('/api/docs');
    expect(page.body).toContain('/api/docs/static/swagger-ui-bundle.js');
    expect((await app.inject('/api/docs/static/swagger-ui-bundle.js')).statusCode).toBe(200);
    expect((await app.inject('/openapi.json')).statusCode).toBe(404);
  });

  it.each([
    ['before', true],
    ['after', false],
  ])("works beside the host's own @fastify/swagger registered %s it", async (_when, before) => {
    const own = async (h: FastifyInstance) => {
      await h.register(swagger, { openapi: { openapi: '3.1.0', info: { title: 'host', version: '1.0.0' } } });
    };
    const app = await host(async (h, options) => {
      if (before) await own(h);
      await h.register(versionedAuth, options);
      if (!before) await own(h);
      h.get('/orders', { schema: { response: { 200: { type: 'object' } } } }, async () => ({}));
    });
    const ours = (await app.inject('/openapi.json')).json() as Document;
    expect(Object.keys(ours.paths)).toContain('/auth/login');
    expect(Object.keys(ours.paths)).not.toContain('/orders');
    const theirs = app.swagger() as unknown as Document;
    expect(Object.keys(theirs.paths)).toContain('/orders');
    expect((theirs as unknown as { info: { title: string } }).info.title).toBe('host');
  });

  it('openapi: false serves neither the document nor the UI', async () => {
    const app = await host(async (h, options) => {
      await h.register(versionedAuth, { ...options, openapi: false });
    });
    expect((await app.inject('/openapi.json')).statusCode).toBe(404);
    expect((await app.inject('/docs')).statusCode).toBe(404);
  });
});
