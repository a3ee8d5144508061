import type {} from '@fastify/cookie';
import type { FastifyReply, FastifyRequest, onRequestHookHandler } from 'fastify';
import type { SignedIn } from '../auth/index.js';
import { HttpError } from './errors.js';

/** How the client carries its refresh token: in the JSON body (mobile) or an HttpOnly cookie (SPA). */
export type Transport = 'bearer' | 'cookie';

export const TRANSPORT_HEADER = 'x-token-transport';

export interface CookieSettings {
  /** `__Secure-refresh_token`, or `refresh_token` when COOKIE_SECURE=false. */
  name: string;
  secure: boolean;
  /** Origins besides the server's own that may use cookie transport. */
  allowedOrigins: ReadonlySet<string>;
  /** The cookie's `Path`: `/auth` under the plugin's prefix. */
  path: string;
}

export function cookieSettings(cookieSecure: boolean, corsOrigins: readonly string[], path: string): CookieSettings {
  return {
    name: cookieSecure ? '__Secure-refresh_token' : 'refresh_token',
    secure: cookieSecure,
    allowedOrigins: new Set(corsOrigins),
    path,
  };
}

export function transportOf(request: FastifyRequest): Transport {
  return request.headers[TRANSPORT_HEADER] === 'cookie' ? 'cookie' : 'bearer';
}

/**
 * The CSRF defence for cookie transport: the custom header (which a cross-site form or a
 * simple request cannot send) must be present, and an `Origin`, when sent, must be the
 * server's own or listed in CORS_ORIGINS. `null` is never allowed.
 */
export function assertCookieRequestAllowed(request: FastifyRequest, settings: CookieSettings): void {
  if (transportOf(request) !== 'cookie') throw csrfRejected();
  const origin = request.headers.origin;
  if (origin === undefined || settings.allowedOrigins.has(origin) || origin === ownOrigin(request)) return;
  throw csrfRejected();
}

/** Route hook: a request that asks for cookie transport passes the CSRF check before anything runs. */
export function cookieTransportGuard(settings: CookieSettings): onRequestHookHandler {
  return function guardCookieTransport(request, _reply, done) {
    if (transportOf(request) !== 'cookie') return done();
    try {
      assertCookieRequestAllowed(request, settings);
      done();
    } catch (error) {
      done(error as Error);
    }
  };
}

/** The refresh token from the cookie, after the CSRF check; undefined when there is no cookie. */
export function refreshTokenFromCookie(request: FastifyRequest, settings: CookieSettings): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  const token = request.server.parseCookie(header)[settings.name];
  if (!token) return undefined;
  assertCookieRequestAllowed(request, settings);
  return token;
}

/** Sends a token response; in cookie transport the refresh token goes to the cookie only. */
export function sendTokens(request: FastifyRequest, reply: FastifyReply, settings: CookieSettings, s: SignedIn) {
  reply.header('cache-control', 'no-store');
  const body = {
    tokenType: 'Bearer' as const,
    accessToken: s.accessToken,
    expiresIn: s.expiresIn,
    refreshToken: s.refreshToken as string | undefined,
    refreshExpiresIn: s.refreshExpiresIn,
    user: s.user,
  };
  if (transportOf(request) === 'cookie') {
    reply.setCookie(settings.name, s.refreshToken, { ...cookieAttributes(settings), maxAge: s.refreshExpiresIn });
    body.refreshToken = undefined;
  }
  return body;
}

export function clearRefreshCookie(reply: FastifyReply, settings: CookieSettings): void {
  reply.clearCookie(settings.name, cookieAttributes(settings));
}

function cookieAttributes(settings: CookieSettings) {
  return { httpOnly: true, secure: settings.secure, sameSite: 'strict', path: settings.path } as const;
}

function ownOrigin(request: FastifyRequest): string | undefined {
  try {
    return new URL(`${request.protocol}://${request.host}`).origin;
  } catch {
    return undefined;
  }
}

const csrfRejected = () => new HttpError('csrf_rejected', 'Cross-site request rejected');
