import { Type } from 'typebox';

// Generous bounds only: the real rules (trimming, NFC, 8-128 characters) live in src/auth/credentials.ts.
export const Credentials = Type.Object(
  {
    email: Type.String({ maxLength: 1024 }),
    password: Type.String({ maxLength: 1024 }),
  },
  { additionalProperties: false },
);

export const RefreshBody = Type.Object(
  { refreshToken: Type.String({ minLength: 1, maxLength: 16384 }) },
  { additionalProperties: false },
);

export const LogoutBody = Type.Object(
  { refreshToken: Type.Optional(Type.String({ minLength: 1, maxLength: 16384 })) },
  { additionalProperties: false },
);

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

const Problem = Type.Object({
  type: Type.String(),
  status: Type.Integer(),
  title: Type.String(),
  code: Type.String(),
  errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
});

/** Every route's error answers, so they serialise through the same schema as successes. */
export const problemResponses = { '4xx': Problem, '5xx': Problem } as const;
