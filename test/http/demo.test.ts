import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import demoPage from '../../src/http/demo.js';
import { notFoundProblem } from '../../src/index.js';

/** GET with the path sent exactly as written (fetch and inject would normalise `..` away first). */
function rawGet(port: number, path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    })
      .on('error', reject)
      .end();
  });
}

describe('the demo page (development only, src/server.ts)', () => {
  let app: FastifyInstance;
  let port: number;

  beforeAll(async () => {
    app = Fastify();
    await app.register(demoPage);
    app.setNotFoundHandler(notFoundProblem);
    await app.listen({ port: 0, host: '127.0.0.1' });
    port = (app.server.address() as AddressInfo).port;
  });
  afterAll(() => app.close());

  it('serves examples/spa at /demo/ and the built client at /demo/client/', async () => {
    expect(await rawGet(port, '/demo')).toMatchObject({ status: 308, headers: { location: '/demo/' } });
    const page = await rawGet(port, '/demo/');
    expect(page).toMatchObject({ status: 200, headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' } });
    expect(page.body).toBe(await readFile(new URL('../../examples/spa/index.html', import.meta.url), 'utf8'));
    expect(await rawGet(port, '/demo/index.html')).toMatchObject({ status: 200, body: page.body });
    expect(await rawGet(port, '/demo/app.js')).toMatchObject({ status: 200, headers: { 'content-type': 'text/javascript; charset=utf-8' } });
    expect(await rawGet(port, '/demo/style.css')).toMatchObject({ status: 200, headers: { 'content-type': 'text/css; charset=utf-8' } });
    // The package's build (npm test builds first): the module app.js imports.
    const client = await rawGet(port, '/demo/client/index.js');
    expect(client).toMatchObject({ status: 200, headers: { 'content-type': 'text/javascript; charset=utf-8' } });
    expect(client.body).toContain('createClient');
  });

  it('sends a policy that runs no inline script, and a page that needs none', async () => {
    const { headers, body } = await rawGet(port, '/demo/');
    const csp = String(headers['content-security-policy']);
    expect(csp.split(';')).toEqual(
      expect.arrayContaining(["default-src 'self'", "base-uri 'none'", "form-action 'self'", "frame-ancestors 'none'", "object-src 'none'"]),
    );
    expect(csp).not.toContain('unsafe');
    expect(headers).toMatchObject({ 'x-content-type-options': 'nosniff', 'x-frame-options': 'DENY', 'referrer-policy': 'no-referrer' });
    // Every script is a file; no inline handler either.
    const scripts = [...body.matchAll(/<script\b[^>]*>/g)].map(([tag]) => tag);
    expect(scripts).toEqual(['<script type="module" src="app.js">']);
    expect(body).not.toMatch(/\son[a-z]+=/i);
  });

  it.each([
    '/demo/../package.json',
    '/demo/client/../../package.json',
    '/demo/client/../../src/server.ts',
    '/demo/%2e%2e/package.json',
    '/demo/.%2e/package.json',
    '/demo/..%2fpackage.json',
    '/demo/%2e%2e%2f%2e%2e%2fpackage.json',
    '/demo/client/..%2f..%2f..%2fsrc%2fserver.ts',
    '/demo/client/%2e%2e%2findex.js',
    '/demo/%5c..%5cpackage.json',
    '/demo//etc/passwd',
    '/demo/%2fetc%2fpasswd',
    '/demo/app.js%00',
    '/demo/app.js/',
    '/demo/README.md',
    '/demo/client/index.d.ts',
    '/demo/client',
    '/demo/client/',
    '/demo/examples/spa/app.js',
  ])('serves nothing else: %s is 404', async (path) => {
    const res = await rawGet(port, path);
    expect(res.status).toBe(404);
    expect(JSON.parse(res.body)).toMatchObject({ code: 'not_found' });
  });
});
