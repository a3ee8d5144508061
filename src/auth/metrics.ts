import { isDatabaseUnavailable } from '../db/errors.js';
import { AuthError } from '../errors.js';

/** How a refresh ended: the refusals by their meaning, `invalid` for a token that does not verify. */
export type RefreshOutcome = 'rotated' | 'grace' | 'reused' | 'revoked' | 'expired' | 'invalid' | 'error';

/** Operations counted by result (`success`, or the refusal's code). */
export type CountedOperation = 'login' | 'register' | 'password_change' | 'logout_all';

/** Which limiter refused: the per-address request limit on /auth/*, or the failed-password throttle's two caps. */
export type Limiter = 'address' | 'password_per_address' | 'password_per_account';

/**
 * What the use cases and the HTTP layer report for the metrics (src/metrics/): nothing
 * here knows Prometheus, and NO_METRICS does nothing when metrics are off. Labels are
 * fixed words and codes, never user data.
 */
export interface AuthMetrics {
  /** A login, registration, password change or logout-all ended with `result`. */
  result(operation: CountedOperation, result: string): void;
  refresh(outcome: RefreshOutcome): void;
  rateLimited(limiter: Limiter): void;
  /** An access token refused by `authenticate` (token_missing, token_invalid, token_expired, token_revoked, service_unavailable). */
  accessRefused(code: string): void;
}

export const NO_METRICS: AuthMetrics = {
  result: () => {},
  refresh: () => {},
  rateLimited: () => {},
  accessRefused: () => {},
};

/** A refusal's code, `service_unavailable` for a database that does not answer, `error` for anything else. */
export function resultOf(error: unknown): string {
  if (error instanceof AuthError) return error.code;
  return isDatabaseUnavailable(error) ? 'service_unavailable' : 'error';
}

const REFRESH_REFUSALS: Record<string, RefreshOutcome> = {
  refresh_token_reused: 'reused',
  token_revoked: 'revoked',
  token_expired: 'expired',
  token_invalid: 'invalid',
};

/** The refresh outcome a refusal stands for. */
export const refreshRefusal = (error: unknown): RefreshOutcome => REFRESH_REFUSALS[resultOf(error)] ?? 'error';

/** Reports `operation`'s result once `work` settles, and passes its value or error on. */
export async function counted<T>(metrics: AuthMetrics, operation: CountedOperation, work: Promise<T>): Promise<T> {
  try {
    const value = await work;
    metrics.result(operation, 'success');
    return value;
  } catch (error) {
    metrics.result(operation, resultOf(error));
    throw error;
  }
}
