import type { DomainErrorCode } from '../errors.js';

/** Refusals only HTTP knows of: how the request was framed, sent or throttled, and failures. */
export type HttpErrorCode =
  | 'invalid_json'
  | 'token_missing'
  | 'csrf_rejected'
  | 'payload_too_large'
  | 'request_timeout'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'service_unavailable'
  | 'internal_error'
  | 'not_found';

/** Every `code` an answer can carry: the contract's table. */
export type ErrorCode = DomainErrorCode | HttpErrorCode;

/** A refusal made by the HTTP layer itself; mapped to problem+json with the domain's in src/plugins/problem.ts. */
export class HttpError extends Error {
  /** The problem's `title` where it says more than its code's usual one. */
  readonly title?: string;

  constructor(
    readonly code: HttpErrorCode,
    message: string = code,
    /** The `Retry-After` header, in seconds. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}
