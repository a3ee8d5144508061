/** The domain's stable, machine-readable refusal codes (the HTTP layer adds its own: src/http/errors.ts). */
export type DomainErrorCode =
  | 'validation_failed'
  | 'token_invalid'
  | 'token_expired'
  | 'token_revoked'
  | 'refresh_token_reused'
  | 'invalid_credentials'
  | 'not_found'
  | 'email_taken'
  | 'rate_limited';

export interface FieldError {
  /** JSON pointer into the request part, e.g. `/email`. */
  path: string;
  message: string;
}

/** A refusal the client can act on. Mapped to HTTP in exactly one place (src/plugins/problem.ts). */
export class AuthError extends Error {
  /** The problem's `title` where it says more than its code's usual one. */
  readonly title?: string;

  constructor(
    readonly code: DomainErrorCode,
    message: string = code,
    readonly errors?: FieldError[],
    /** For `rate_limited`: when the refused attempt may be made again, ms since the epoch. */
    readonly retryAt?: number,
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

/**
 * A signed-in user's wrong password (password change, account deletion): the account is not
 * in question, so the title does not say "email"; the code is login's all the same.
 */
export function wrongPassword(): AuthError {
  return Object.assign(new AuthError('invalid_credentials', 'Invalid password'), { title: 'Invalid password' });
}

/** A 400 `validation_failed` naming each offending field. */
export function validationError(errors: FieldError[]): AuthError {
  return new AuthError('validation_failed', 'Request validation failed', errors);
}
