import type { IncomingMessage, ServerResponse } from 'node:http';
import fp from 'fastify-plugin';
import helmet, { type HelmetOptions } from 'helmet';

/** Headers fitting a JSON API: nothing may frame, script or sniff a response. */
export const HELMET_OPTIONS: Readonly<HelmetOptions> = {
  contentSecurityPolicy: { useDefaults: false, directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] } },
  frameguard: { action: 'deny' },
  referrerPolicy: { policy: 'no-referrer' },
  // Pages of the same site (the SPA) read answers through CORS; nothing else may embed them.
  crossOriginResourcePolicy: { policy: 'same-site' },
};

/**
 * The headers helmet sets for `options`, recorded once from its own middleware: helmet
 * stays the authority on their names and values, and every answer carries the same set.
 */
export function securityHeaders(options: HelmetOptions = HELMET_OPTIONS): Record<string, string> {
  const headers: Record<string, string> = {};
  const recorder = {
    setHeader: (name: string, value: string) => void (headers[name.toLowerCase()] = value),
    removeHeader: (name: string) => void delete headers[name.toLowerCase()],
  };
  helmet(options)({} as IncomingMessage, recorder as unknown as ServerResponse, (error?: unknown) => {
    if (error) throw error;
  });
  return headers;
}

/** Our options' headers, recorded once at start-up. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = Object.freeze(securityHeaders());

/** The same headers as raw HTTP/1.1 lines, for answers written straight to a socket. */
export const SECURITY_HEADER_LINES = Object.entries(SECURITY_HEADERS)
  .map(([name, value]) => `${name}: ${value}\r\n`)
  .join('');

/**
 * Sets the security headers on every answer of the context it is registered in, errors and
 * 404s included, from one plain hook. (@fastify/helmet rebuilds helmet's middleware chain on
 * every request, in two async hooks: 7 % of the server's CPU time on GET /me.) Answers
 * refused before routing add them themselves (src/plugins/problem.ts).
 */
export default fp(
  async (app) => {
    app.addHook('onRequest', (_request, reply, done) => {
      reply.headers(SECURITY_HEADERS);
      done();
    });
  },
  { name: 'versioned-auth-security-headers', fastify: '5.x' },
);
