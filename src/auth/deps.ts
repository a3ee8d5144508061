import type { Clock } from '../config/clock.js';
import type { Db } from '../db/client.js';
import type { DeviceInfo } from '../db/sessions.js';
import type { Tokens } from '../tokens/index.js';
import type { LoginThrottle } from './login-throttle.js';
import type { AuthMetrics } from './metrics.js';
import type { PasswordHasher } from './passwords.js';

export type { DeviceInfo } from '../db/sessions.js';

/** Everything a use case needs; built once by the app. */
export interface AuthDeps {
  db: Db;
  tokens: Tokens;
  passwords: PasswordHasher;
  clock: Clock;
  /** Seconds a session lives from sign-in. */
  refreshTtl: number;
  /** Seconds a rotated refresh token is still honoured. */
  refreshReuseGrace: number;
  /** Failed-login limits; absent when RATE_LIMIT=off. */
  loginThrottle?: LoginThrottle;
  /** Where outcomes are counted; NO_METRICS when metrics are off. */
  metrics: AuthMetrics;
}

/** What a sign-in, a refresh or a password change hands back to the client. */
export interface SignedIn {
  user: { id: string; email: string };
  sessionId: string;
  accessToken: string;
  /** Seconds. */
  expiresIn: number;
  refreshToken: string;
  /** Seconds until the session's absolute end. */
  refreshExpiresIn: number;
}
