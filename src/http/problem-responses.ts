import { Type, type TSchema } from 'typebox';
import { PROBLEMS } from '../plugins/problem.js';
import type { ErrorCode } from './errors.js';

/** The media type of every error answer (RFC 9457). */
export const PROBLEM_MEDIA_TYPE = 'application/problem+json';

/** Every route: an unexpected failure, and the 503 of a closing server (src/plugins/closing.ts). */
const EVERY_ROUTE: readonly ErrorCode[] = ['internal_error', 'service_unavailable'];

/**
 * A method that may carry a body (POST, DELETE), whether the route reads one or not: JSON
 * only, at most 16 KiB, well framed (a bad `Content-Length`, or headers the schema refuses,
 * are `validation_failed`).
 */
export const BODY_REFUSALS: readonly ErrorCode[] = ['invalid_json', 'payload_too_large', 'unsupported_media_type', 'validation_failed'];

/**
 * A token refused: none, malformed or forged, expired, revoked. The authenticate hook's
 * refusals of an access token, and refresh's (and logout's) of a refresh token
 * (`service_unavailable` with ACCESS_TOKEN_REVOCATION=strict is every route's already).
 */
export const TOKEN_REFUSALS: readonly ErrorCode[] = ['token_missing', 'token_invalid', 'token_expired', 'token_revoked'];

/** Routes that take `X-Token-Transport: cookie`: the CSRF check. */
export const COOKIE_REFUSALS: readonly ErrorCode[] = ['csrf_rejected'];

/** Routes under the per-address limit (src/plugins/rate-limit.ts), or the failed-password limits. */
export const RATE_LIMITED: readonly ErrorCode[] = ['rate_limited'];

/**
 * Statuses no route declares, serialised all the same (the catch-alls below): never in the
 * OpenAPI document, and an answer with one fails the tests' check of declared responses.
 */
export const CATCH_ALL_STATUSES: ReadonlySet<string> = new Set(['4xx', '5xx']);

const FieldErrors = Type.Array(Type.Object({ path: Type.String(), message: Type.String() }));

/** The problem+json body of one status, its `code` one of `codes`. */
function problemSchema(status: number, codes: readonly ErrorCode[]): TSchema {
  return Type.Object({
    type: Type.String({ description: 'always `about:blank`' }),
    status: Type.Literal(status),
    title: Type.String({ description: 'for people; the code is for programs' }),
    code: Type.Unsafe<ErrorCode>({ type: 'string', enum: [...codes] }),
    ...(codes.includes('validation_failed') ? { errors: Type.Optional(FieldErrors) } : {}),
  });
}

/** What the catch-alls serialise: any problem. */
const AnyProblem = Type.Object({ type: Type.String(), status: Type.Integer(), title: Type.String(), code: Type.String(), errors: Type.Optional(FieldErrors) });
const catchAll = { description: 'an undeclared error', content: { [PROBLEM_MEDIA_TYPE]: { schema: AnyProblem } } };

const RETRY_AFTER = { 'retry-after': { type: 'integer', description: 'seconds to wait before trying again' } };
const WWW_AUTHENTICATE = { 'www-authenticate': { type: 'string', description: '`Bearer`, or `Bearer error="invalid_token"`' } };

export interface ProblemOptions {
  /** The route takes a Bearer access token: its 401s carry `WWW-Authenticate`. */
  bearer?: boolean;
}

/**
 * A route's error answers, one per status, each a problem+json body whose `code` is an enum
 * of exactly the codes given for that status (each code has one status: src/plugins/problem.ts),
 * plus every route's 500 and 503. Statuses left out are caught by `4xx`/`5xx` schemas that
 * only keep serialisation safe: they are not in the document, and the tests fail on them.
 */
export function problems(codes: readonly ErrorCode[], options: ProblemOptions = {}) {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of new Set([...codes, ...EVERY_ROUTE])) {
    const { status } = PROBLEMS[code];
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Record<string, unknown> = { '4xx': catchAll, '5xx': catchAll };
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    const headers = status === 429 || status === 503 ? RETRY_AFTER : status === 401 && options.bearer ? WWW_AUTHENTICATE : undefined;
    responses[status] = {
      description: list.map((code) => `\`${code}\`: ${PROBLEMS[code].title}`).join('; '),
      ...(headers ? { headers } : {}),
      content: { [PROBLEM_MEDIA_TYPE]: { schema: problemSchema(status, list) } },
    };
  }
  // `object`, so that spreading it next to a route's successes leaves their types alone: a
  // problem is sent by sendProblem, never returned by a handler.
  return responses as object;
}
