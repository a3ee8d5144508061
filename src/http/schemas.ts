import { Type } from 'typebox';
import { AUTH_EVENT_TYPES, type AuthEventType } from '../db/schema.js';

// Generous bounds only: the real rules (trimming, NFC, 8-128 characters) live in src/auth/credentials.ts.
export const Credentials = Type.Object(
  {
    email: Type.String({ maxLength: 1024 }),
    password: Type.String({ maxLength: 1024 }),
  },
  { additionalProperties: false },
);

/** Refresh and logout: the token in the body (mobile), or none when it travels in the cookie. */
export const RefreshTokenBody = Type.Object(
  { refreshToken: Type.Optional(Type.String({ minLength: 1, maxLength: 16384 })) },
  { additionalProperties: false },
);

export const PasswordChange = Type.Object(
  {
    currentPassword: Type.String({ maxLength: 1024 }),
    newPassword: Type.String({ maxLength: 1024 }),
  },
  { additionalProperties: false },
);

export const PasswordConfirmation = Type.Object({ password: Type.String({ maxLength: 1024 }) }, { additionalProperties: false });

export const TransportHeaders = Type.Object({
  'x-token-transport': Type.Optional(
    Type.Union([Type.Literal('cookie'), Type.Literal('bearer')], {
      description: '`cookie` (SPA): the refresh token travels in an HttpOnly cookie, not in the body; the default is `bearer` (mobile)',
    }),
  ),
});

// No length bound here: an id that is not one of the caller's sessions, whatever its shape, is a 404.
export const SessionParams = Type.Object({ id: Type.String() });

export const SessionList = Type.Object({
  sessions: Type.Array(
    Type.Object({
      id: Type.String(),
      current: Type.Boolean(),
      createdAt: Type.String(),
      lastUsedAt: Type.String(),
      expiresAt: Type.String(),
      userAgent: Type.Union([Type.String(), Type.Null()]),
      ip: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
}, { description: "the caller's live sessions, one per device" });

export const LogoutOthersResponse = Type.Object({ revokedSessions: Type.Integer() }, { description: 'how many sessions were revoked' });

export const User = Type.Object({ id: Type.String(), email: Type.String() });

export const TokenResponse = Type.Object({
  tokenType: Type.Literal('Bearer'),
  accessToken: Type.String(),
  expiresIn: Type.Integer(),
  refreshToken: Type.Optional(Type.String()),
  refreshExpiresIn: Type.Integer(),
  user: User,
}, { description: 'a token response (`Cache-Control: no-store`); no `refreshToken` in cookie transport, where it is set as the cookie' });

export const Me = Type.Object({ id: Type.String(), email: Type.String(), sessionId: Type.String() }, { description: 'the user and session of the access token' });

export const LogoutAllResponse = Type.Object({
  refreshTokenVersion: Type.Integer(),
  revokedAt: Type.String({ format: 'date-time' }),
}, { description: "every refresh token of the user is revoked; the user's new version" });

export const Status = Type.Object({ status: Type.String() }, { description: 'the process serves' });

/**
 * `GET /.well-known/jwks.json`: public members only. The serializer writes the listed
 * properties and nothing else, so a private member (`d`) could never be sent.
 */
export const Jwks = Type.Object({
  keys: Type.Array(
    Type.Object({
      kty: Type.Union([Type.Literal('OKP'), Type.Literal('EC')]),
      crv: Type.Union([Type.Literal('Ed25519'), Type.Literal('P-256')]),
      x: Type.String(),
      y: Type.Optional(Type.String()),
      kid: Type.String(),
      alg: Type.Union([Type.Literal('EdDSA'), Type.Literal('ES256')]),
      use: Type.Literal('sig'),
    }),
  ),
}, { description: 'public keys (JWK); cacheable for 5 minutes' });

/** `/ready`: `{"status":"ok"}`, or `degraded` with what is down (the revocation feed). */
export const ReadyStatus = Type.Object(
  { status: Type.String(), revocationFeed: Type.Optional(Type.Literal('down')) },
  { description: '`ok`, or `degraded` while the revocation feed is down' },
);

/** Events per page of GET /auth/events when the client does not say. */
export const EVENTS_PAGE_DEFAULT = 20;

/**
 * `GET /auth/events`'s query. Strings with exact patterns, not integers: the server's Ajv
 * does not coerce types (src/server-options.ts), a host's may, and both must agree.
 */
export const EventsQuery = Type.Object({
  limit: Type.Optional(
    Type.String({ pattern: '^(?:[1-9][0-9]?|100)$', description: `events per page, an integer from 1 to 100; ${EVENTS_PAGE_DEFAULT} when absent` }),
  ),
  before: Type.Optional(
    Type.String({
      pattern: '^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$',
      description: "the previous page's `next`: events older than the ones already seen",
    }),
  ),
});

export const AuthEventList = Type.Object(
  {
    events: Type.Array(
      Type.Object({
        id: Type.String(),
        type: Type.Unsafe<AuthEventType>({ type: 'string', enum: [...AUTH_EVENT_TYPES] }),
        at: Type.String({ format: 'date-time' }),
        sessionId: Type.Union([Type.String(), Type.Null()], { description: 'the session the event is about (docs/api.md#security-log)' }),
        ip: Type.Union([Type.String(), Type.Null()]),
        userAgent: Type.Union([Type.String(), Type.Null()]),
        code: Type.Optional(Type.String({ description: "a failed login's refusal: `invalid_credentials` or `rate_limited`" })),
      }),
    ),
    next: Type.Union([Type.String(), Type.Null()], { description: 'the `before` of the next page; null on the last one' }),
  },
  { description: "the caller's security log, newest first" },
);
