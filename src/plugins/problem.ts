import type { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { isDatabaseUnavailable } from '../db/errors.js';
import { serializeError } from '../http/logging.js';
import type { Clock } from '../config/clock.js';
import { AuthError, type FieldError } from '../errors.js';
import { HttpError, type ErrorCode } from '../http/errors.js';
import { SECURITY_HEADER_LINES, SECURITY_HEADERS } from './security-headers.js';

/** Each code's one status and its usual title: the contract's error table. */
export const PROBLEMS: Readonly<Record<ErrorCode, { status: number; title: string }>> = {
  validation_failed: { status: 400, title: 'Request validation failed' },
  invalid_json: { status: 400, title: 'The body is not valid JSON' },
  token_missing: { status: 401, title: 'Authentication required' },
  token_invalid: { status: 401, title: 'The token is invalid' },
  token_expired: { status: 401, title: 'The token has expired' },
  token_revoked: { status: 401, title: 'The token has been revoked' },
  refresh_token_reused: { status: 401, title: 'The refresh token was already used' },
  invalid_credentials: { status: 401, title: 'Invalid email or password' },
  csrf_rejected: { status: 403, title: 'Cross-site request rejected' },
  not_found: { status: 404, title: 'Not found' },
  email_taken: { status: 409, title: 'An account with this email already exists' },
  payload_too_large: { status: 413, title: 'The body is too large' },
  request_timeout: { status: 408, title: 'The request did not arrive in time' },
  unsupported_media_type: { status: 415, title: 'The body must be application/json' },
  rate_limited: { status: 429, title: 'Too many requests' },
  service_unavailable: { status: 503, title: 'The service is temporarily unavailable' },
  internal_error: { status: 500, title: 'Internal server error' },
};

/** Fastify's own errors, by their code. */
const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'validation_failed',
  FST_ERR_NOT_FOUND: 'not_found',
};

export interface Problem {
  type: 'about:blank';
  status: number;
  title: string;
  code: ErrorCode;
  errors?: FieldError[];
}

/** Seconds a client should wait before retrying a 503. */
const RETRY_AFTER_SECONDS = 5;

/** `Retry-After` for a moment on the injected clock: whole seconds, at least 1. */
const secondsUntil = (at: number, clock: Clock) => Math.max(1, Math.ceil((at - clock.now()) / 1000));

/**
 * The single place where errors become HTTP answers: problem+json with the contract's
 * `code`, for every route of the context it is registered in (and its 404s when that
 * context has a prefix of its own; a host owns the 404s of its root).
 */
export default fp<{ notFound: boolean; clock: Clock }>(
  async (app, { notFound, clock }) => {
    if (notFound) app.setNotFoundHandler(notFoundProblem);
    app.setErrorHandler((error: FastifyError, request, reply) => {
      if (error instanceof AuthError) {
        if (error.retryAt !== undefined) reply.header('retry-after', String(secondsUntil(error.retryAt, clock)));
        return send(request, reply, error.code, error.errors, error.title);
      }
      if (error instanceof HttpError) {
        if (error.retryAfterSeconds !== undefined) reply.header('retry-after', String(error.retryAfterSeconds));
        return send(request, reply, error.code, undefined, error.title);
      }
      if (error.validation) {
        const errors = error.validation.map((issue) => ({
          path: fieldPath(error.validationContext, issue.instancePath, issue.params),
          message: issue.message ?? 'is invalid',
        }));
        return send(request, reply, 'validation_failed', errors);
      }
      const mapped = error.code ? FASTIFY_CODES[error.code] : undefined;
      if (mapped) return send(request, reply, mapped);
      // The client hung up before its body arrived, or REQUEST_TIMEOUT cut it off (with a
      // 408): nobody is left to answer, and it says nothing about the database.
      if (request.raw.destroyed && !request.raw.complete) {
        request.log.info('the client went away before its body arrived');
        return send(request, reply, 'validation_failed');
      }
      // Serialized here, not by the logger, so a host's own logger never sees a failed
      // query's parameters either. (A per-context `logSerializers` would do the same at the
      // price of a slower child logger on every request, GET /me included.)
      if (isDatabaseUnavailable(error)) {
        request.log.warn({ err: serializeError(error) }, 'database unavailable');
        return send(request, reply, 'service_unavailable');
      }
      request.log.error({ err: serializeError(error) }, 'unexpected error');
      return send(request, reply, 'internal_error');
    });
  },
  { name: 'versioned-auth-problem', fastify: '5.x' },
);

/** A 404 `not_found` in problem+json, with the security headers; the server uses it for its root too. */
export function notFoundProblem(request: FastifyRequest, reply: FastifyReply) {
  reply.headers(SECURITY_HEADERS);
  return send(request, reply, 'not_found');
}

/** The problem+json answer for `code` (`title`: the code's own); 401s to a Bearer credential carry `WWW-Authenticate`. */
export function sendProblem(reply: FastifyReply, code: ErrorCode, bearer: boolean, errors?: FieldError[], title = PROBLEMS[code].title) {
  const { status } = PROBLEMS[code];
  if (code === 'service_unavailable') reply.header('retry-after', String(RETRY_AFTER_SECONDS));
  if (status === 401 && bearer) {
    reply.header('www-authenticate', code === 'token_missing' ? 'Bearer' : 'Bearer error="invalid_token"');
  }
  const problem: Problem = { type: 'about:blank', status, title, code, ...(errors ? { errors } : {}) };
  return reply.code(status).type('application/problem+json').send(problem);
}

const send = (request: FastifyRequest, reply: FastifyReply, code: ErrorCode, errors?: FieldError[], title?: string) =>
  sendProblem(reply, code, request.bearerCredential === true, errors, title);

/** A JSON pointer to the offending field, including the one a `required` rule found missing. */
function fieldPath(context: string | undefined, instancePath: string, params: Record<string, unknown>): string {
  const missing = typeof params.missingProperty === 'string' ? `/${params.missingProperty}` : '';
  const path = `${instancePath}${missing}` || '/';
  return context && context !== 'body' ? `/${context}${path === '/' ? '' : path}` : path;
}

/** Router refusals that name no route: a URL that does not decode, a path parameter over `maxParamLength`. */
const UNROUTABLE = new Set(['FST_ERR_BAD_URL', 'FST_ERR_MAX_PARAM_LENGTH']);

/**
 * Fastify's errors raised before routing: an unroutable URL is answered like an unknown
 * route, and is the client's doing, so it is logged at info without a stack.
 */
export function frameworkErrors(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  const unroutable = error.code !== undefined && UNROUTABLE.has(error.code);
  if (unroutable) request.log.info({ code: error.code }, 'unroutable URL');
  else request.log.error({ err: serializeError(error) }, 'framework error');
  // Refused before routing, so before the hook that sets these.
  reply.headers(SECURITY_HEADERS);
  void send(request, reply, unroutable ? 'not_found' : 'internal_error');
}

/** What Node's refusals become: status, reason phrase, title, code; anything else is a 400. */
const CLIENT_ERRORS: Record<string, [number, string, string, ErrorCode]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large', 'Request headers too large', 'payload_too_large'],
  // REQUEST_TIMEOUT: the headers or the body did not arrive in time.
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout', PROBLEMS.request_timeout.title, 'request_timeout'],
};
const MALFORMED: [number, string, string, ErrorCode] = [400, 'Bad Request', 'Malformed HTTP request', 'validation_failed'];

/**
 * Requests Node's HTTP parser refuses (bad header bytes, conflicting lengths, headers over
 * the limit) or that do not arrive in time never reach Fastify: answer them as
 * problem+json too, and close.
 */
export function clientErrorHandler(error: Error & { code?: string }, socket: Socket): void {
  // As Node does: no answer on a connection that is gone or whose answer has begun.
  const inFlight = (socket as Socket & { _httpMessage?: ServerResponse | null })._httpMessage;
  if (error.code === 'ECONNRESET' || !socket.writable || inFlight?.headersSent) {
    socket.destroy();
    return;
  }
  const [status, reason, title, code] = (error.code && CLIENT_ERRORS[error.code]) || MALFORMED;
  const problem: Problem = { type: 'about:blank', status, title, code };
  const body = JSON.stringify(problem);
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\n` +
      `Content-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${SECURITY_HEADER_LINES}Connection: close\r\n\r\n${body}`,
  );
}
