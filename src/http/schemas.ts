import { Type } from 'typebox';

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
  'x-token-transport': Type.Optional(Type.Union([Type.Literal('cookie'), Type.Literal('bearer')])),
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
});

export const LogoutOthersResponse = Type.Object({ revokedSessions: Type.Integer() });

export const User = Type.Object({ id: Type.String(), email: Type.String() });

export const TokenResponse = Type.Object({
  tokenType: Type.Literal('Bearer'),
  accessToken: Type.String(),
  expiresIn: Type.Integer(),
  refreshToken: Type.Optional(Type.String()),
  refreshExpiresIn: Type.Integer(),
  user: User,
});

export const Me = Type.Object({ id: Type.String(), email: Type.String(), sessionId: Type.String() });

export const LogoutAllResponse = Type.Object({
  refreshTokenVersion: Type.Integer(),
  revokedAt: Type.String({ format: 'date-time' }),
});

export const Status = Type.Object({ status: Type.String() });

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
});

/** `/ready`: `{"status":"ok"}`, or `degraded` with what is down (the revocation feed). */
export const ReadyStatus = Type.Object({ status: Type.String(), revocationFeed: Type.Optional(Type.Literal('down')) });

const Problem = Type.Object({
  type: Type.String(),
  status: Type.Integer(),
  title: Type.String(),
  code: Type.String(),
  errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
});

/** Every route's error answers, so they serialise through the same schema as successes. */
export const problemResponses = { '4xx': Problem, '5xx': Problem } as const;
