import type { FastifyServerOptions } from 'fastify';

/** Never logged, whatever a serializer or a future log line includes. */
export const REDACTED = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.currentPassword',
  '*.newPassword',
  '*.refreshToken',
  '*.accessToken',
];

interface LoggedError {
  [key: string]: unknown;
  type: string;
  message: string;
  stack: string;
}

/**
 * Errors as logged. A failed drizzle query puts its SQL parameters (emails, password
 * hashes, token ids) in its message and stack, where redaction paths cannot reach: log
 * only its type and its cause's code and message. Idempotent: the logger's `err`
 * serializer passes on what the error handler serialized already.
 */
export function serializeError(error: unknown, depth = 0): LoggedError {
  if (serialized.has(error as object)) return error as LoggedError;
  if (!(error instanceof Error)) return { type: typeof error, message: String(error), stack: '' };
  const code = (error as { code?: unknown }).code;
  const cause = error.cause !== undefined && depth < 3 ? serializeError(error.cause, depth + 1) : undefined;
  if (error.message.startsWith('Failed query:')) {
    const message = 'database query failed';
    const logged: LoggedError = { type: error.name, message, stack: `${error.name}: ${message}`, ...(cause ? { cause } : {}) };
    serialized.add(logged);
    return logged;
  }
  const logged: LoggedError = {
    type: error.name,
    message: error.message,
    ...(typeof code === 'string' ? { code } : {}),
    stack: error.stack ?? '',
    ...(cause ? { cause } : {}),
  };
  serialized.add(logged);
  return logged;
}

/** What serializeError has produced, so it is never serialized twice. */
const serialized = new WeakSet<object>();

/** Adds redaction and the safe error serializer to the caller's pino options. */
export function loggerOptions(logger: FastifyServerOptions['logger']): FastifyServerOptions['logger'] {
  if (logger === undefined || logger === false) return false;
  const base = typeof logger === 'object' && logger !== null ? logger : {};
  return {
    ...base,
    redact: { paths: REDACTED, censor: '[redacted]' },
    serializers: { ...('serializers' in base ? base.serializers : {}), err: serializeError },
  };
}
