import { readdir, readFile } from 'node:fs/promises';
import { extname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginAsync } from 'fastify';
import { securityHeaders } from '../plugins/security-headers.js';

/** The repository's root: this file sits two levels down, in src/http and in dist/http alike. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json',
};

/**
 * The page's own policy: scripts, styles and requests from this origin only, so no inline
 * script runs and the client talks to the API it was served by.
 */
const DEMO_HEADERS = Object.freeze({
  ...securityHeaders({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: { defaultSrc: ["'self'"], baseUri: ["'none'"], formAction: ["'self'"], frameAncestors: ["'none'"], objectSrc: ["'none'"] },
    },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
  }),
  'cache-control': 'no-store',
});

/**
 * The demo SPA (examples/spa) at `/demo/`, with the built client (dist/client) at
 * `/demo/client/`, on the API's own origin so cookie transport needs no CORS. Development
 * only: src/server.ts registers it unless NODE_ENV=production.
 *
 * Only the files listed at registration are served: a request path is a key in that list,
 * never joined onto a directory, so no path reaches outside these two folders. Their
 * contents are read on each request, so an edited app.js shows on reload.
 */
const demoPage: FastifyPluginAsync = async (app) => {
  const files = new Map<string, string>([
    ...(await servable(join(ROOT, 'examples/spa'), '', ['.html', '.js', '.css'])),
    ...(await servable(join(ROOT, 'dist/client'), 'client/', ['.js', '.map'])),
  ]);
  if (![...files.keys()].some((name) => name.startsWith('client/'))) {
    app.log.warn('demo: no client build in dist/client (npm run build): /demo will not load');
  }

  app.get('/demo', (_request, reply) => reply.redirect('/demo/', 308));
  app.get('/demo/*', async (request, reply) => {
    const name = (request.params as { '*': string })['*'] || 'index.html';
    const file = files.get(name);
    if (!file) return reply.callNotFound();
    const body = await readFile(file);
    return reply.headers(DEMO_HEADERS).type(CONTENT_TYPES[extname(name)]!).send(body);
  });
};

/** The files under `dir` with one of `extensions`, keyed by `prefix` + their path in it; none if `dir` is missing. */
async function servable(dir: string, prefix: string, extensions: string[]): Promise<[string, string][]> {
  let names: string[];
  try {
    names = await readdir(dir, { recursive: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names
    .filter((name) => extensions.includes(extname(name)))
    .map((name) => [`${prefix}${name.split(sep).join('/')}`, join(dir, name)]);
}

export default demoPage;
