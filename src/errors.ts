/** The contract's stable, machine-readable error codes. */
export type ErrorCode =
  | 'validation_failed'
  | 'invalid_json'
  | 'token_missing'
  | 'token_invalid'
  | 'token_expired'
  | 'token_revoked'
  | 'refresh_token_reused'
  | 'invalid_credentials'
  | 'csrf_rejected'
  | 'not_found'
  | 'email_taken'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'service_unavailable'
  | 'internal_error';

export interface FieldError {
  /** JSON pointer into the request part, e.g. `/email`. */
  path: string;
  message: string;
}

/** A refusal the client can act on. Mapped to HTTP in exactly one place (src/http/problem.ts). */
export class AuthError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string = code,
    readonly errors?: FieldError[],
    /** Seconds the client should wait, for `rate_limited`. */
    readonly retryAfter?: number,
  ) {
    super(message);
    this.name = 'AuthError';
  }
}

/**
 * The one answer to a wrong password or an unknown account, wherever a password is
 * checked: identical bodies are what keep accounts from being enumerated.
 */
export function invalidCredentials(): AuthError {
  return new AuthError('invalid_credentials', 'Invalid email or password');
}

/** A 400 `validation_failed` naming each offending field. */
export function validationError(errors: FieldError[]): AuthError {
  return new AuthError('validation_failed', 'Request validation failed', errors);
}
