import type { Static } from 'typebox';
import type * as schemas from '../http/schemas.js';
import type { ErrorCode } from '../http/errors.js';

// Type-only imports: the server's TypeBox schemas give the client its types, so the two cannot
// drift, and nothing of them reaches the client's JavaScript.
export type { ErrorCode };
export type Credentials = Static<typeof schemas.Credentials>;
export type PasswordChange = Static<typeof schemas.PasswordChange>;
export type PasswordConfirmation = Static<typeof schemas.PasswordConfirmation>;
export type TokenResponse = Static<typeof schemas.TokenResponse>;
export type User = Static<typeof schemas.User>;
export type Me = Static<typeof schemas.Me>;
export type SessionList = Static<typeof schemas.SessionList>;
export type Session = SessionList['sessions'][number];
export type LogoutAllResponse = Static<typeof schemas.LogoutAllResponse>;
export type LogoutOthersResponse = Static<typeof schemas.LogoutOthersResponse>;
export type AuthEventList = Static<typeof schemas.AuthEventList>;
export type AuthEvent = AuthEventList['events'][number];

/** Which page of the security log: `limit` 1 to 100 (20 when absent); `before`, the previous page's `next`. */
export interface EventsPage {
  limit?: number;
  before?: string;
}

/** The contract's codes, and the client's own for an answer that is not problem+json (a proxy's error page). */
export type ClientErrorCode = ErrorCode | 'unexpected_response';

/** A problem+json answer's body. */
export interface ProblemBody {
  status: number;
  title: string;
  code: ErrorCode;
  errors?: { path: string; message: string }[];
}

/**
 * Why the client is signed out: the server's `code` when it refused the session
 * (`token_revoked`, `refresh_token_reused`, `token_missing`, …), or one of the client's own:
 * `signed_out` (signOut), `signed_out_everywhere` (signOutEverywhere), `account_deleted`.
 */
export type SignOutReason = ClientErrorCode | 'signed_out' | 'signed_out_everywhere' | 'account_deleted';

/** Where the refresh token lives in body transport: the Keychain, Keystore or SecureStore. */
export interface TokenStorage {
  get(): Promise<string | null | undefined> | string | null | undefined;
  set(refreshToken: string): Promise<void> | void;
  delete(): Promise<void> | void;
}

export interface ClientOptions {
  /** The API's address, e.g. `https://auth.example.com` or, in a page on the same origin, `/api`. */
  baseUrl: string;
  /** `cookie` (SPA: the refresh token in an HttpOnly cookie) or `body` (mobile, Node). */
  transport: 'cookie' | 'body';
  /** Body transport only: keeps the refresh token across restarts. Without it, memory only. */
  storage?: TokenStorage;
  /** Called instead of the global `fetch` (tests, a React Native polyfill). */
  fetch?: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
  /** Called once each time the client becomes signed out. */
  onSignedOut?: (reason: SignOutReason) => void;
  /** Cookie transport: how long to wait for another tab's refresh before refreshing anyway. Default 10 000 ms. */
  lockTimeoutMs?: number;
}

export interface Client {
  register(credentials: Credentials): Promise<User>;
  signIn(credentials: Credentials): Promise<User>;
  /** Revokes this session (also when the server cannot be reached, locally). */
  signOut(): Promise<void>;
  /** Revokes every session of the user, this one included. */
  signOutEverywhere(): Promise<LogoutAllResponse>;
  /** Revokes every session but this one. */
  signOutOthers(): Promise<LogoutOthersResponse>;
  sessions(): Promise<Session[]>;
  revokeSession(id: string): Promise<void>;
  /** The user's security log, newest first: `{ events, next }`, where `next` is the following page's `before` (null on the last). */
  events(page?: EventsPage): Promise<AuthEventList>;
  /** Changes the password; this client moves to the new session the server opens, every other session is revoked. */
  changePassword(change: PasswordChange): Promise<User>;
  deleteAccount(confirmation: PasswordConfirmation): Promise<void>;
  me(): Promise<Me>;
  /** The global `fetch`, with the access token attached for the API's origin; refreshes on a 401 once and retries once. */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /** Adds a sign-out listener; returns its removal. */
  onSignedOut(listener: (reason: SignOutReason) => void): () => void;
  /** The signed-in user as of the last token, if any. */
  readonly user: User | undefined;
  /** Stops timers and the cross-tab channel (tests, Node processes); the session is kept. */
  close(): void;
}
