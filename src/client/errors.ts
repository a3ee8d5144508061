import type { ClientErrorCode, ProblemBody } from './types.js';

/** An API refusal, from its problem+json answer. Network failures are the runtime's own errors (`TypeError`). */
export class AuthApiError extends Error {
  readonly status: number;
  readonly code: ClientErrorCode;
  readonly title: string;
  readonly errors?: ProblemBody['errors'];
  /** `Retry-After` in seconds (429, 503), when the browser may read it. */
  readonly retryAfter?: number;

  constructor(status: number, body: Partial<ProblemBody>, retryAfter?: number) {
    const title = body.title ?? `HTTP ${status}`;
    super(title);
    this.name = 'AuthApiError';
    this.status = status;
    this.code = body.code ?? 'unexpected_response';
    this.title = title;
    if (body.errors) this.errors = body.errors;
    if (retryAfter) this.retryAfter = retryAfter;
  }
}

/** Reads a refusal's problem+json (or whatever it is) into an AuthApiError. */
export async function apiError(res: Response): Promise<AuthApiError> {
  const body = (await res.json().catch(() => ({}))) as Partial<ProblemBody>;
  return new AuthApiError(res.status, body, Number(res.headers.get('retry-after')) || undefined);
}
