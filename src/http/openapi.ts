import type { CookieSettings } from './transport.js';

/**
 * The route schema's key for what only our document says of a route: its credentials, and a
 * body that may be left out. Not `security`: a host's own @fastify/swagger documents our
 * routes too, and fails on a security scheme its document does not define.
 */
export const ROUTE_DOCUMENT = 'versionedAuthDocument';

export interface RouteDocument {
  security?: Security;
  /** Refresh and logout: the credential may ride in a cookie or header, with no body at all. */
  optionalBody?: boolean;
}

/** The security schemes' names, as routes name them in `schema.security`. */
const BEARER_SCHEME = 'bearerAuth';
const COOKIE_SCHEME = 'refreshCookie';

/** An OpenAPI security requirement: any one entry satisfies it; `{}` is "none of these schemes". */
export type Security = readonly Readonly<Record<string, readonly string[]>>[];

/** A Bearer access token in `Authorization`. */
export const BEARER_ONLY: Security = [{ [BEARER_SCHEME]: [] }];
/** Refresh: the cookie, or (no scheme) `refreshToken` in the body. */
export const REFRESH_CREDENTIAL: Security = [{ [COOKIE_SCHEME]: [] }, {}];
/** Logout: the cookie, a Bearer access token, or `refreshToken` in the body. */
export const LOGOUT_CREDENTIAL: Security = [{ [COOKIE_SCHEME]: [] }, { [BEARER_SCHEME]: [] }, {}];

/** `components.securitySchemes` of the document; the cookie's name follows COOKIE_SECURE. */
export function securitySchemes(cookies: Pick<CookieSettings, 'name' | 'path'>) {
  return {
    [BEARER_SCHEME]: {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description: 'An access token (`typ: at+jwt`) from a token response, in `Authorization: Bearer <token>`',
    },
    [COOKIE_SCHEME]: {
      type: 'apiKey',
      in: 'cookie',
      name: cookies.name,
      description:
        `The refresh token in cookie transport: set by a token response to a request with \`X-Token-Transport: cookie\` ` +
        `(HttpOnly, SameSite=Strict, Path=${cookies.path}), sent back with that header on every cookie request ` +
        '(`__Secure-refresh_token`, or `refresh_token` with COOKIE_SECURE=false)',
    },
  } as const;
}
